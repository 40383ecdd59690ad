/**
 * @module gateway/request-id
 * The id each request carries (`X-Kong-Request-Id`, logs, traces).
 */
const idPrefix = (Math.random() * 0xffffffff >>> 0).toString(16).padStart(8, '0') + (process.pid & 0xffff).toString(16).padStart(4, '0');
let idBlock = '';
let idCounter = 0xffffffff;
/**
 * 32 hex digits, as Kong's request ids: 12 for this process (random, pid), 12 for the time its
 * current block of 2^32 ids began, 8 for a counter. The clock is read once a block, not once a
 * request.
 */
export function nextRequestId(): string {
  if (idCounter === 0xffffffff) {
    idCounter = 0;
    idBlock = idPrefix + Date.now().toString(16).padStart(12, '0');
  } else {
    idCounter++;
  }
  const c = idCounter.toString(16);
  return idBlock + (c.length === 8 ? c : '0000000'.slice(c.length - 1) + c);
}
