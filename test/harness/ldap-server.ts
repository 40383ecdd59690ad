/**
 * @module test/harness/ldap-server
 * A real OpenLDAP `slapd` (Debian's, installed by .ci/run) run as the current user from a temp
 * dir: a generated slapd.conf (mdb backend, a self-signed certificate for ldaps:// and StartTLS),
 * listening on free loopback ports, seeded with entries through `ldapadd`. Faults for tests: stop
 * and start again on the same ports (the data stays), freeze (SIGSTOP) and thaw. slapd runs in
 * the foreground with the `stats` log level, so tests can count the binds it answered.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/** slapd lives in /usr/sbin, which is not always on PATH. */
export const SLAPD = '/usr/sbin/slapd';
const SCHEMAS = ['core', 'cosine', 'inetorgperson'].map((s) => `/etc/ldap/schema/${s}.schema`);

export interface LdapUser { uid: string; password: string; cn?: string }

export interface LdapServer {
  /** Plain LDAP (and StartTLS) port. */
  readonly port: number;
  /** LDAP over TLS port. */
  readonly tlsPort: number;
  readonly suffix: string;
  /** `ou=people,<suffix>`: where `addUsers` puts entries. */
  readonly peopleDn: string;
  /** The self-signed certificate (PEM file) the server presents, for clients that verify it. It names
   * `localhost` only, so a client verifying it against 127.0.0.1 sees a hostname mismatch. */
  readonly certificateFile: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP, resolved once every slapd thread is stopped. */
  freeze(): Promise<void>;
  thaw(): void;
  addUsers(users: LdapUser[]): Promise<void>;
  /**
   * Named (non-anonymous) binds slapd has logged since it was first started (across restarts). slapd logs an
   * operation before answering it, but the log reaches us asynchronously: call `syncLog` first.
   */
  bindCount(): number;
  /** Connections slapd has accepted since it was first started (see `syncLog`). */
  connectionCount(): number;
  /** Resolves once every operation slapd answered so far is in the log (a marker search round trip). */
  syncLog(): Promise<void>;
  /** slapd's stats log so far (see `syncLog`). */
  logText(): string;
  /** Waits until slapd's stats log matches `pattern` (for events slapd logs on its own, e.g. a close). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Stops slapd and removes the temp dir. */
  close(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** RFC 2849 SAFE-STRING (no leading space, colon or '<'; no trailing space); others go base64. */
const SAFE_LDIF_VALUE = /^(?:[\x21-\x39\x3b\x3d-\x7e][\x20-\x7e]*[\x21-\x7e]|[\x21-\x39\x3b\x3d-\x7e])?$/;

function ldif(entries: Record<string, string | string[]>[]): string {
  return entries.map((e) => Object.entries(e)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => (SAFE_LDIF_VALUE.test(x)
      ? `${k}: ${x}` : `${k}:: ${Buffer.from(x).toString('base64')}`))).join('\n')).join('\n\n') + '\n';
}

export async function startLdapServer(suffix = 'dc=ldap,dc=mashape,dc=com'): Promise<LdapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-slapd-'));
  mkdirSync(join(dir, 'data'));
  const [port, tlsPort] = [await freePort(), await freePort()];
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost']);
  const rootDn = `cn=admin,${suffix}`;
  const rootPw = 'admin-secret';
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    ...SCHEMAS.map((s) => `include ${s}`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `TLSCertificateFile ${cert}`,
    `TLSCertificateKeyFile ${key}`,
    'database mdb',
    'maxsize 10485760',
    `suffix "${suffix}"`,
    `rootdn "${rootDn}"`,
    `rootpw ${rootPw}`,
    `directory ${join(dir, 'data')}`,
    '',
  ].join('\n'));
  const peopleDn = `ou=people,${suffix}`;
  let child: ChildProcess | null = null;
  let log = '';
  let syncs = 0;

  const server: LdapServer = {
    port, tlsPort, suffix, peopleDn,
    certificateFile: cert,
    async start() {
      if (child) return;
      // -d keeps slapd in the foreground (its pid is ours to kill, its log on stderr); 256 = stats.
      const c = spawn(SLAPD, ['-d', '256', '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${tlsPort}/`, '-f', conf],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d) => { log += d; });
      child = c;
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(port))) {
        if (c.exitCode !== null) throw new Error(`slapd exited with ${c.exitCode}:\n${log}`);
        if (Date.now() > deadline) throw new Error(`slapd did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await exited;
    },
    async freeze() {
      const c = child;
      if (!c?.pid) throw new Error('slapd is not running');
      c.kill('SIGSTOP');
      // The stop is asynchronous: until the thread that takes the signal is scheduled, slapd's other
      // threads still answer (a bind went through this way on a loaded host). Wait for all of them.
      const deadline = Date.now() + 5_000;
      while (!allThreadsStopped(c.pid)) {
        if (Date.now() > deadline) throw new Error('slapd did not stop within 5 s of SIGSTOP');
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    thaw() { child?.kill('SIGCONT'); },
    async addUsers(users) {
      await run('ldapadd', ['-x', '-H', `ldap://127.0.0.1:${port}/`, '-D', rootDn, '-w', rootPw], ldif(users.map((u) => ({
        dn: `uid=${u.uid},${peopleDn}`, objectClass: 'inetOrgPerson', uid: u.uid, cn: u.cn ?? u.uid, sn: u.uid,
        userPassword: u.password,
      }))));
    },
    bindCount: () => (log.match(/ BIND dn="[^"]+" method=/g) ?? []).length,
    connectionCount: () => (log.match(/ ACCEPT from /g) ?? []).length,
    logText: () => log,
    async waitForLog(pattern, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = log.match(pattern);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`slapd did not log ${pattern}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async syncLog() {
      const marker = `cn=sync-${++syncs}`;
      await run('ldapsearch', ['-x', '-H', `ldap://127.0.0.1:${port}/`, '-b', marker, '-s', 'base']).catch(() => {});
      const deadline = Date.now() + 5_000;
      while (!log.includes(`base="${marker}"`)) {
        if (Date.now() > deadline) throw new Error(`slapd did not log ${marker}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  const rdn = /^dc=([^,]+)/.exec(suffix)?.[1] ?? 'test';
  await run('ldapadd', ['-x', '-H', `ldap://127.0.0.1:${port}/`, '-D', rootDn, '-w', rootPw], ldif([
    { dn: suffix, objectClass: ['dcObject', 'organization'], o: rdn, dc: rdn },
    { dn: peopleDn, objectClass: 'organizationalUnit', ou: 'people' },
  ]));
  return server;
}

/** Every thread of `pid` is in state T (stopped), per /proc/PID/task/TID/stat. */
function allThreadsStopped(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.length > 0 && tasks.every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
  });
}
