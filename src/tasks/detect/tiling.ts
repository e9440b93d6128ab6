/**
 * Where to look in a photo. A BlazeFace model finds a face when it fills a fair part of its
 * input; in a group photo shrunk to 192 px, faces are a few pixels wide and vanish. So besides
 * one pass over the whole photo (for large faces) we look at overlapping tiles, each about
 * 60% of the photo's short side: small faces then fill several times more of the model input.
 * Long strips whose short side is between one and two model inputs are searched with square
 * tiles along their length; other photos whose short side is under twice the model input are
 * looked at whole only.
 */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface TilingPlan {
  readonly regions: Region[];
  /** Tile side in pixels, 0 when the photo is looked at whole only. */
  readonly tile: number;
  readonly overlap: number;
}

export const TILE_FRACTION = 0.6;
export const TILE_OVERLAP = 0.25;

function starts(length: number, tile: number, step: number): number[] {
  if (length <= tile) return [0];
  const count = Math.ceil((length - tile) / step) + 1;
  // Spread the tiles evenly so the last one ends exactly at the edge.
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - tile)) / (count - 1)));
}

export function planTiles(width: number, height: number, modelInput: number, tiling: boolean): TilingPlan {
  const whole: Region = { left: 0, top: 0, width, height };
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if (!tiling) return { regions: [whole], tile: 0, overlap: 0 };
  let tile: number;
  if (short >= 2 * modelInput) {
    tile = Math.max(modelInput, Math.round(short * TILE_FRACTION));
  } else if (short >= modelInput && long >= 2 * short) {
    // A long strip (a panorama, a photo padded to a banner): letterboxed whole, a face shrinks
    // with the long side, so look at square tiles as tall as the strip along it. Short sides
    // under the model input are not tiled: the tiles would be many and the faces too small.
    tile = short;
  } else {
    return { regions: [whole], tile: 0, overlap: 0 };
  }
  const step = Math.max(1, Math.round(tile * (1 - TILE_OVERLAP)));
  const regions: Region[] = [whole];
  for (const top of starts(height, tile, step)) {
    for (const left of starts(width, tile, step)) {
      regions.push({ left, top, width: Math.min(tile, width - left), height: Math.min(tile, height - top) });
    }
  }
  return { regions, tile, overlap: TILE_OVERLAP };
}
