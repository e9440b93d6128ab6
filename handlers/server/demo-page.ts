/**
 * The demo page served at GET /: pick or drop a photo, choose a task and a model, see the
 * answer. One self-contained document (no CDN, no web fonts, no build step), so it works
 * offline and loads in one request. Plain DOM code; every control has a label and works by
 * keyboard.
 *
 * Nothing in it is particular to a task: the tasks, their models and their pictures come from
 * GET /models (which lists them from TASKS), and the answer is drawn from its JSON by shape —
 * items with a `box` are boxed, `{x, y}` points (landmarks, keypoints) dotted, labelled scores
 * or fractions listed as bars — or shown as the picture the route returns (a mask, a skeleton,
 * a cut-out), picked in the Picture list or, when the JSON has nothing to draw, the first one.
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
    <label>Task
      <select id="task"></select>
    </label>
    <label>Model
      <select id="model"></select>
    </label>
    <label>Picture
      <select id="picture"><option value="">(drawn from the data)</option></select>
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

let modelTask = {}; // model id -> its task id
let taskInfo = {}; // task id -> { id, summary, model, pictures }

function svgElement(name, attributes) {
  // The overlay's own namespace (SVG's), so the page names no outside address.
  const element = document.createElementNS($('boxes').namespaceURI, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** Every {x, y} point of an item: its landmarks or keypoints, or the item itself. */
function pointsOf(item) {
  const lists = Object.values(item).filter((value) => Array.isArray(value));
  const points = lists.flat().filter((p) => p && typeof p.x === 'number' && typeof p.y === 'number');
  return typeof item.x === 'number' && typeof item.y === 'number' ? [item, ...points] : points;
}

/** Boxes and points from the JSON, over the photo; the number of boxed items per field. */
function draw(result) {
  const svg = $('boxes');
  svg.replaceChildren();
  svg.setAttribute('viewBox', '0 0 ' + result.image.width + ' ' + result.image.height);
  const stroke = Math.max(2, Math.min(result.image.width, result.image.height) / 200);
  const counts = [];
  for (const [field, value] of Object.entries(result)) {
    if (!Array.isArray(value) || !value.every((item) => item && typeof item === 'object')) continue;
    const boxed = value.filter((item) => item.box);
    if (boxed.length > 0 || value.length === 0) counts.push([field, boxed.length]);
    for (const item of value) {
      if (item.box) {
        const b = item.box;
        svg.append(svgElement('rect', { x: b.x, y: b.y, width: b.width, height: b.height, fill: 'none', stroke: '#ff1744', 'stroke-width': stroke }));
        if (item.label) {
          const label = svgElement('text', { x: b.x + stroke, y: b.y + stroke * 8, fill: '#ff1744', 'font-size': stroke * 7 });
          label.textContent = item.label;
          svg.append(label);
        }
      }
      for (const p of pointsOf(item)) svg.append(svgElement('circle', { cx: p.x, cy: p.y, r: stroke * 1.5, fill: '#00e676' }));
    }
  }
  return { counts, drawn: svg.childElementCount > 0 };
}

/** Labelled numbers (classify's top, segment's classes) as bars. */
function bars(result) {
  const list = Object.values(result).find((value) => Array.isArray(value) && value.length > 0 &&
    value.every((item) => item && typeof item.label === 'string' && typeof (item.score ?? item.fraction) === 'number' && !item.box));
  $('top').replaceChildren(...(list || []).slice(0, 10).map((p) => {
    const share = p.score ?? p.fraction;
    const item = document.createElement('li');
    item.textContent = p.label + ' — ' + (share * 100).toFixed(1) + '%';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = Math.max(1, share * 100) + '%';
    bar.setAttribute('aria-hidden', 'true');
    item.append(bar);
    return item;
  }));
}

/** The task's own fields in a few words, when there is nothing to draw or list (an embedding). */
function summary(result) {
  const base = ['model', 'engine', 'image', 'timings', 'received'];
  return Object.entries(result).filter(([field]) => !base.includes(field)).map(([field, value]) =>
    field + ': ' + (Array.isArray(value) ? value.length + ' values' : typeof value === 'object' ? '…' : String(value))).join(', ');
}

function fail(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  $('sentence').textContent = '';
  $('top').replaceChildren();
  $('timings').textContent = '';
  $('boxes').replaceChildren();
}

function route(model, format) {
  return modelTask[model] + '?model=' + encodeURIComponent(model) + (format ? '&format=' + encodeURIComponent(format) : '');
}

/** Answers arrive out of order when the choices change quickly: only the latest is shown. */
let latest = 0;

async function showPicture(model, name, run) {
  const response = await fetch(route(model, name), {
    method: 'POST', headers: { 'content-type': chosen.blob.type || 'application/octet-stream' }, body: chosen.blob,
  });
  const picture = await response.blob();
  if (run !== latest) return;
  if (!response.ok) return fail('The picture could not be drawn (' + response.status + ').');
  $('boxes').replaceChildren();
  const preview = $('preview');
  URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(picture);
  preview.alt = 'The ' + name + ' picture of ' + chosen.name;
}

async function analyse() {
  if (!chosen) return fail('Choose a photo first.');
  const run = ++latest;
  $('error').hidden = true;
  $('timings').textContent = ''; // no figures of an earlier answer beside this one
  $('result').setAttribute('aria-busy', 'true');
  try {
    show(chosen.blob, chosen.name); // the photo itself again, if a picture replaced it
    const type = chosen.blob.type || 'application/octet-stream';
    const started = performance.now();
    const model = $('model').value;
    const response = await fetch(route(model), {
      method: 'POST', headers: { 'content-type': type, accept: 'application/json' }, body: chosen.blob,
    });
    const body = await response.json();
    if (run !== latest) return;
    if (!response.ok) return fail(body.error ? body.error.message : 'The server answered ' + response.status + '.');
    const t = body.timings;
    $('timings').textContent = 'decode ' + t.decodeMs + ' ms, inference ' + t.inferenceMs + ' ms, server ' + t.totalMs +
      ' ms, round trip ' + Math.round(performance.now() - started) + ' ms (' + body.model + ', ' + body.engine + ')';
    bars(body);
    const { counts, drawn } = draw(body);
    if (typeof body.sentence === 'string') $('sentence').innerHTML = body.sentence; // labels are HTML-escaped by the server
    else if (counts.length > 0) $('sentence').textContent = counts.map(([field, n]) =>
      n === 0 ? 'No ' + field + ' found in the picture' : n + ' ' + (n === 1 ? field.replace(/s$/, '') : field) + ' in the picture').join(', ');
    else $('sentence').textContent = $('top').childElementCount > 0 ? '' : summary(body);
    const pictures = taskInfo[modelTask[model]].pictures;
    const picture = $('picture').value || (!drawn && pictures.length > 0 ? pictures[0] : '');
    if (picture) await showPicture(model, picture, run);
  } catch (error) {
    if (run === latest) fail('Could not reach the server: ' + error.message);
  } finally {
    if (run === latest) $('result').setAttribute('aria-busy', 'false');
  }
}

/** The Picture list for the chosen model's task. */
function offerPictures() {
  const pictures = taskInfo[modelTask[$('model').value]]?.pictures ?? [];
  $('picture').replaceChildren(new Option('(drawn from the data)', ''), ...pictures.map((name) => new Option(name, name)));
}

$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  if (file) { $('sample').value = ''; show(file, file.name); analyse(); }
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (file) { show(file, file.name); analyse(); }
});
$('sample').addEventListener('change', async () => {
  const name = $('sample').value;
  if (!name) return;
  const response = await fetch('samples/' + encodeURIComponent(name));
  if (!response.ok) return fail('Sample ' + name + ' is not available.');
  show(await response.blob(), name);
  analyse();
});
$('model').addEventListener('change', () => {
  $('task').value = modelTask[$('model').value];
  offerPictures();
  if (chosen) analyse();
});
$('task').addEventListener('change', () => {
  $('model').value = taskInfo[$('task').value].model;
  offerPictures();
  if (chosen) analyse();
});
$('picture').addEventListener('change', () => { if (chosen) analyse(); });
$('form').addEventListener('submit', (e) => { e.preventDefault(); analyse(); });

(async () => {
  try {
    const [models, samples] = await Promise.all([fetch('models').then((r) => r.json()), fetch('samples').then((r) => r.json())]);
    const usable = models.models.filter((m) => !m.error);
    modelTask = Object.fromEntries(usable.map((m) => [m.id, m.task]));
    taskInfo = Object.fromEntries(models.tasks.map((t) => [t.id, t]));
    $('task').replaceChildren(...models.tasks.map((t) => {
      const option = new Option(t.id, t.id);
      option.title = t.summary;
      return option;
    }));
    // The models grouped by task, so the list says which model does what.
    $('model').replaceChildren(...models.tasks.map((t) => {
      const group = document.createElement('optgroup');
      group.label = t.id;
      group.append(...usable.filter((m) => m.task === t.id).map((m) => new Option(m.title || m.id, m.id)));
      return group;
    }));
    $('model').value = models.default;
    $('task').value = modelTask[models.default];
    offerPictures();
    $('sample').append(...samples.map((name) => new Option(name, name)));
  } catch (error) {
    fail('Could not load the model list: ' + error.message);
  }
})();
</script>
</body>
</html>
`;
