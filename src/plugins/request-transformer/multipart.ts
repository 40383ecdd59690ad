/**
 * @module plugins/request-transformer/multipart
 * multipart/form-data bodies as Kong's lua-multipart handles them: parts are kept with their
 * header lines; `get`/`setSimple`/`delete` work on the last part of a name; the body is written
 * back with the client's boundary.
 */

interface Part { name: string; headers: string[]; value: Buffer }

/** Kong: `;%s*boundary=(%S+)`, quotes removed. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(\S+)/i.exec(contentType);
  if (!m) return null;
  let b = m[1]!;
  if (b.length >= 2 && ((b[0] === '"' && b.endsWith('"')) || (b[0] === "'" && b.endsWith("'")))) b = b.slice(1, -1);
  return b === '' ? null : b;
}

function partName(headers: string[]): string | null {
  for (const line of headers) {
    if (!/^content-disposition/i.test(line)) continue;
    const m = /;\s*name\s*=\s*("([^"]*)"|'([^']*)'|([^;\s]*))/i.exec(line);
    if (m) return m[2] ?? m[3] ?? m[4] ?? '';
  }
  return null;
}

export class MultipartBody {
  readonly #boundary: string;
  readonly #parts: Part[] = [];
  readonly #index = new Map<string, number>();

  constructor(body: Buffer, boundary: string) {
    this.#boundary = boundary;
    const delimiter = Buffer.from(`--${boundary}`);
    let pos = body.indexOf(delimiter);
    while (pos !== -1) {
      let start = pos + delimiter.length;
      if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
      if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
      else if (body[start] === 0x0a) start += 1;
      const next = body.indexOf(delimiter, start);
      const end = next === -1 ? body.length : next;
      const headerEnd = body.indexOf('\r\n\r\n', start);
      if (headerEnd === -1 || headerEnd > end) break;
      const headers = body.subarray(start, headerEnd).toString('latin1').split('\r\n').filter((l) => l !== '');
      let valueEnd = end;
      if (body[valueEnd - 1] === 0x0a) valueEnd--;
      if (body[valueEnd - 1] === 0x0d) valueEnd--;
      const name = partName(headers);
      if (name !== null) {
        this.#parts.push({ name, headers, value: body.subarray(headerEnd + 4, Math.max(valueEnd, headerEnd + 4)) });
        this.#index.set(name, this.#parts.length - 1);
      }
      pos = next;
    }
  }

  has(name: string): boolean { return this.#index.has(name); }

  get(name: string): Buffer | undefined {
    const i = this.#index.get(name);
    return i === undefined ? undefined : this.#parts[i]!.value;
  }

  /** Replaces the part of that name with a plain field, or adds one at the end. */
  setSimple(name: string, value: Buffer | string): void {
    const part: Part = {
      name,
      // A rendered name must not break out of the quoted parameter or the header line.
      headers: [`Content-Disposition: form-data; name="${name.replace(/[\r\n"]/g, (c) => encodeURIComponent(c))}"`],
      value: typeof value === 'string' ? Buffer.from(value) : value,
    };
    const i = this.#index.get(name);
    if (i !== undefined) {
      this.#parts[i] = part;
    } else {
      this.#parts.push(part);
      this.#index.set(name, this.#parts.length - 1);
    }
  }

  delete(name: string): void {
    const i = this.#index.get(name);
    if (i === undefined) return;
    this.#parts.splice(i, 1);
    this.#index.delete(name);
    for (const [k, v] of this.#index) if (v > i) this.#index.set(k, v - 1);
  }

  toBuffer(): Buffer {
    if (this.#parts.length === 0) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for (const p of this.#parts) {
      chunks.push(Buffer.from(`--${this.#boundary}\r\n${p.headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1'), p.value, Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${this.#boundary}--\r\n`, 'latin1'));
    return Buffer.concat(chunks);
  }
}
