/**
 * The picture size a JPEG declares in its start-of-frame segment, or undefined when none is found
 * (a truncated or foreign file). Walks the marker segments; never reads past the buffer.
 */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) return undefined;
    const marker = jpeg[at + 1] as number;
    // Fill bytes and markers without a length (RSTn, TEM) carry no segment.
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = jpeg.readUInt16BE(at + 2);
    if (length < 2) return undefined;
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width follow the length.
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > jpeg.length) return undefined;
      const height = jpeg.readUInt16BE(at + 5);
      const width = jpeg.readUInt16BE(at + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    // Start of scan: entropy-coded data follows, and no frame header came before it.
    if (marker === 0xda) return undefined;
    at += 2 + length;
  }
  return undefined;
}
