/**
 * Class colours of the mask picture: the PASCAL VOC colour map, the colours DeepLab's and the
 * dataset's own masks use, so a mask reads the same here as in any VOC tool (background
 * black, person pink-grey 192,128,128, dog 64,0,128…). Class i's colour spreads the bits of i
 * over the high bits of red, green and blue, three bits per step.
 */
export type Rgb = readonly [number, number, number];

export function classColour(index: number): Rgb {
  let red = 0;
  let green = 0;
  let blue = 0;
  let bits = index;
  for (let shift = 7; shift >= 0 && bits > 0; shift--) {
    red |= (bits & 1) << shift;
    green |= ((bits >> 1) & 1) << shift;
    blue |= ((bits >> 2) & 1) << shift;
    bits >>= 3;
  }
  return [red, green, blue];
}
