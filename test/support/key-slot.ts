// Redis Cluster's key → slot mapping, from the Cluster specification: CRC16 (XMODEM: polynomial
// 0x1021, initial 0) of the key — or of its first non-empty `{hash tag}` — modulo 16384. The spec's
// own check value (CRC16("123456789") = 0x31C3) is pinned in a test; the Cluster tests compare it
// with the server's CLUSTER KEYSLOT.

export function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function keySlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % 16384;
  }
  return crc16(bytes) % 16384;
}
