/**
 * The classic one-line answer of WasmEdge's TensorFlow examples:
 *
 *   It is very likely a <a href='https://www.google.com/search?q=military uniform'>military uniform</a> in the picture
 *
 * Thresholds apply to the 0-255 score (the raw value of a uint8 output), as in the examples:
 * above 200 "is very likely", above 125 "is likely", above 50 "could be".
 */
export interface Wording {
  readonly very_likely: number;
  readonly likely: number;
  readonly could_be: number;
}

export const WASMEDGE_WORDING: Wording = { very_likely: 200, likely: 125, could_be: 50 };

/**
 * Labels come from label files; escaping keeps a stray `<` or `'` from breaking the page the
 * sentence is shown in. Plain ImageNet labels (like "military uniform") come out unchanged,
 * byte for byte what WasmEdge prints.
 */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function link(label: string): string {
  const safe = escapeHtml(label);
  return `<a href='https://www.google.com/search?q=${safe}'>${safe}</a>`;
}

/** `score` in [0, 1]; the sentence has no trailing newline. */
export function classicSentence(label: string, score: number, wording: Wording = WASMEDGE_WORDING): string {
  const score255 = Math.round(score * 255);
  if (score255 > wording.very_likely) return `It is very likely a ${link(label)} in the picture`;
  if (score255 > wording.likely) return `It is likely a ${link(label)} in the picture`;
  if (score255 > wording.could_be) return `It could be a ${link(label)} in the picture`;
  // The original example printed "It does not appear to be any food item in the picture" for
  // every model; we say what we know instead: nothing is certain, here is the best guess.
  return `It is not clear what is in the picture; the closest match is a ${link(label)}`;
}
