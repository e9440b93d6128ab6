/**
 * The demo page served at GET /: pick or drop a photo, choose a model, see the answer. One
 * self-contained document (no CDN, no web fonts, no build step), so it works offline and
 * loads in one request. Plain DOM code; every control has a label and works by keyboard.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tflite-fn: what is in the picture?</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
  body { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.5rem; }
  form { display: grid; gap: .75rem; }
  .row { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; }
  label { display: grid; gap: .25rem; font-weight: 600; }
  select, button, input[type=file] { font: inherit; padding: .35rem .5rem; }
  #drop { border: 2px dashed #888; border-radius: .5rem; padding: 1.25rem; text-align: center; cursor: pointer; }
  #drop.over, #drop:focus-within { border-color: #0b57d0; background: #eef3fd; }
  figure { position: relative; width: fit-content; margin: 1rem auto; }
  #preview { max-width: 100%; max-height: 18rem; display: block; }
  #boxes { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
  #sentence { font-size: 1.15rem; }
  #error { color: #b3261e; font-weight: 600; }
  ol { padding-left: 1.25rem; }
  li { margin: .3rem 0; }
  .bar { height: .6rem; background: #0b57d0; border-radius: .3rem; }
  .timings { color: #555; font-size: .9rem; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style>
</head>
<body>
<main>
<h1>What is in the picture?</h1>
<form id="form">
  <div id="drop">
    <label for="file">Choose a photo, or drop one here</label>
    <input id="file" name="file" type="file" accept="image/*">
  </div>
  <div class="row">
    <label>Or a sample photo
      <select id="sample"><option value="">(none)</option></select>
    </label>
    <label>Model
      <select id="model"></select>
    </label>
    <button type="submit">Analyse the photo</button>
  </div>
</form>
<figure>
  <img id="preview" alt="" hidden>
  <svg id="boxes" aria-hidden="true" preserveAspectRatio="none"></svg>
</figure>
<section aria-live="polite" aria-busy="false" id="result">
  <p id="error" role="alert" hidden></p>
  <p id="sentence"></p>
  <ol id="top" aria-label="Top labels"></ol>
  <p class="timings" id="timings"></p>
</section>
</main>
<script>
const $ = (id) => document.getElementById(id);
let chosen = null; // { blob, name }

function show(blob, name) {
  chosen = { blob, name };
  const preview = $('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  preview.alt = 'Preview of ' + name;
  preview.hidden = false;
}

let tasks = {}; // model id -> 'classify' | 'detect'

function drawBoxes(result) {
  const svg = $('boxes');
  svg.setAttribute('viewBox', '0 0 ' + result.image.width + ' ' + result.image.height);
  const stroke = Math.max(2, Math.min(result.image.width, result.image.height) / 200);
  svg.innerHTML = result.faces.map((f) =>
    '<rect x="' + f.box.x + '" y="' + f.box.y + '" width="' + f.box.width + '" height="' + f.box.height +
    '" fill="none" stroke="#ff1744" stroke-width="' + stroke + '"/>' +
    f.landmarks.map((p) => '<circle cx="' + p.x + '" cy="' + p.y + '" r="' + stroke + '" fill="#00e676"/>').join('')).join('');
}

function fail(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  $('sentence').textContent = '';
  $('top').replaceChildren();
  $('timings').textContent = '';
  $('boxes').innerHTML = '';
}

async function classify() {
  if (!chosen) return fail('Choose a photo first.');
  $('error').hidden = true;
  $('result').setAttribute('aria-busy', 'true');
  try {
    const type = chosen.blob.type || 'application/octet-stream';
    const started = performance.now();
    const model = $('model').value;
    const detecting = tasks[model] === 'detect';
    const response = await fetch((detecting ? 'detect?model=' : 'classify?top=5&model=') + encodeURIComponent(model), {
      method: 'POST', headers: { 'content-type': type, accept: 'application/json' }, body: chosen.blob,
    });
    const body = await response.json();
    if (!response.ok) return fail(body.error ? body.error.message : 'The server answered ' + response.status + '.');
    const t = body.timings;
    const timings = 'decode ' + t.decodeMs + ' ms, inference ' + t.inferenceMs + ' ms, server ' + t.totalMs +
      ' ms, round trip ' + Math.round(performance.now() - started) + ' ms (' + body.model + ', ' + body.engine + ')';
    $('boxes').innerHTML = '';
    if (detecting) {
      const n = body.faces.length;
      $('sentence').textContent = n === 0 ? 'No face found in the picture' : n + (n === 1 ? ' face' : ' faces') + ' in the picture';
      $('top').replaceChildren();
      drawBoxes(body);
      $('timings').textContent = timings + ', ' + body.tiling.passes + (body.tiling.passes === 1 ? ' pass' : ' passes');
      return;
    }
    $('sentence').innerHTML = body.sentence; // labels are HTML-escaped by the server
    $('top').replaceChildren(...body.top.map((p) => {
      const item = document.createElement('li');
      const percent = (p.score * 100).toFixed(1);
      item.textContent = p.label + ' — ' + percent + '%';
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = Math.max(1, p.score * 100) + '%';
      bar.setAttribute('aria-hidden', 'true');
      item.append(bar);
      return item;
    }));
    $('timings').textContent = timings;
  } catch (error) {
    fail('Could not reach the server: ' + error.message);
  } finally {
    $('result').setAttribute('aria-busy', 'false');
  }
}

$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  if (file) { $('sample').value = ''; show(file, file.name); classify(); }
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (file) { show(file, file.name); classify(); }
});
$('sample').addEventListener('change', async () => {
  const name = $('sample').value;
  if (!name) return;
  const response = await fetch('samples/' + encodeURIComponent(name));
  if (!response.ok) return fail('Sample ' + name + ' is not available.');
  show(await response.blob(), name);
  classify();
});
$('model').addEventListener('change', () => { if (chosen) classify(); });
$('form').addEventListener('submit', (e) => { e.preventDefault(); classify(); });

(async () => {
  try {
    const [models, samples] = await Promise.all([fetch('models').then((r) => r.json()), fetch('samples').then((r) => r.json())]);
    tasks = Object.fromEntries(models.models.map((m) => [m.id, m.task]));
    $('model').replaceChildren(...models.models.filter((m) => !m.error).map((m) => {
      const option = new Option(m.title || m.id, m.id);
      option.selected = m.id === models.default;
      return option;
    }));
    $('sample').append(...samples.map((name) => new Option(name, name)));
  } catch (error) {
    fail('Could not load the model list: ' + error.message);
  }
})();
</script>
</body>
</html>
`;
