/**
 * An image that is slow to decode by design, and legal: an 8000 x 8000 1-bit BMP is 8 MB and
 * 64 megapixels (the default pixel limit), and our BMP decoder is JavaScript. It stands for
 * any host call a guest can keep busy for seconds.
 */
export function slowBmp(): Buffer {
  const width = 8000;
  const height = 8000;
  const row = Math.ceil(width / 32) * 4;
  const size = 62 + row * height;
  const bmp = Buffer.alloc(size);
  bmp.write('BM', 0);
  bmp.writeUInt32LE(size, 2);
  bmp.writeUInt32LE(62, 10); // pixels after the headers and a 2-colour palette
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(width, 18);
  bmp.writeInt32LE(height, 22);
  bmp.writeUInt16LE(1, 26); // planes
  bmp.writeUInt16LE(1, 28); // bits per pixel
  bmp.writeUInt32LE(2, 46); // colours in the palette
  bmp.writeUInt32LE(0xffffff, 58); // black, white
  for (let i = 62; i < size; i++) bmp[i] = (i * 7) & 0xff;
  return bmp;
}
