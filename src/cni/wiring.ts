/**
 * Pod wiring exactly as Calico's CNI plugin does it (calico-compat.md §6.1), with iproute2:
 *  - a veth pair made inside the pod's namespace: `<ifname>` stays there, the host end
 *    (`cali…`, MAC ee:ee:ee:ee:ee:ee) is created directly in the node's namespace (by the PID of
 *    this process, which lives there — the namespace path of the node is never needed);
 *  - pod side: the /32 (/128) address, `169.254.1.1 dev eth0 scope link`, `default via
 *    169.254.1.1` (IPv6: default via the host side's link-local address), the MTU;
 *  - host side: proxy ARP and the other sysctls, up, `<ip>/32 dev cali… scope link` (protocol
 *    boot, as Calico's CNI programs it).
 * Each side is one `ip -batch` run (the pod side through `nsenter --net=<netns>`), so an ADD costs
 * two short processes. The kernel calls go through the `Exec` port so tests can inject failures.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { IP } from '../net/index.js';
import { CNI_ERROR, CniError } from './types.js';

export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/** The IPv6 link-local address of a host-side veth with MAC ee:ee:ee:ee:ee:ee (EUI-64). */
export const HOST_LINK_LOCAL6 = 'fe80::ecee:eeff:feee:eeee';
export const GATEWAY4 = '169.254.1.1';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Exec {
  run(argv: string[], input?: string): Promise<ExecResult>;
  writeSysctl(path: string, value: string): Promise<void>;
  /** Whether this process's namespace has the interface, without starting a process; optional (fakes just let `ip` answer). */
  hasLink?(name: string): Promise<boolean>;
}

export const IP_BIN = process.env.TORTIE_IP_BIN ?? 'ip';
export const NSENTER_BIN = process.env.TORTIE_NSENTER_BIN ?? 'nsenter';

export const realExec: Exec = {
  run: (argv, input) =>
    new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (e) => reject(new CniError(CNI_ERROR.IO_FAILURE, `cannot run ${argv[0]}: ${e.message}`)));
      child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.on('error', () => {});
      child.stdin.end(input ?? '');
    }),
  writeSysctl: (path, value) => writeFile(`/proc/sys/${path}`, value),
  // /proc/self/net is this process's network namespace (unlike /sys/class/net, which is the one sysfs was mounted in).
  hasLink: async (name) => (await readFile('/proc/self/net/dev', 'utf8')).split('\n').some((l) => l.trimStart().startsWith(`${name}:`)),
};

export interface WireRequest {
  netns: string;
  ifname: string;
  hostIf: string;
  mtu: number;
  /** Pod addresses (no prefix length). */
  ips: IP[];
  containerMac: string;
}

/** A random locally administered unicast MAC. */
export function randomMac(rand: () => number = Math.random): string {
  const b = Array.from({ length: 6 }, () => Math.floor(rand() * 256));
  b[0] = (b[0]! & 0xfc) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function failed(what: string, r: ExecResult): CniError {
  return new CniError(CNI_ERROR.IO_FAILURE, `${what}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join('; ')}`);
}

export class Wiring {
  constructor(
    private readonly exec: Exec = realExec,
    private readonly pid: number = process.pid,
  ) {}

  /** Creates and configures the pair. Throws CniError; the caller rolls back with `remove`. */
  async add(w: WireRequest): Promise<void> {
    const v6 = w.ips.some((ip) => ip.version === 6);
    const pod = [
      `link add ${w.ifname} address ${w.containerMac} mtu ${w.mtu} type veth peer name ${w.hostIf} address ${HOST_MAC} mtu ${w.mtu} netns ${this.pid}`,
      `link set ${w.ifname} up`,
      ...w.ips.map((ip) => (ip.version === 4 ? `addr add ${ip}/32 dev ${w.ifname}` : `addr add ${ip}/128 dev ${w.ifname} nodad`)),
    ];
    if (w.ips.some((ip) => ip.version === 4)) {
      pod.push(`route add ${GATEWAY4} dev ${w.ifname} scope link`, `route add default via ${GATEWAY4} dev ${w.ifname}`);
    }
    if (v6) pod.push(`-6 route add default via ${HOST_LINK_LOCAL6} dev ${w.ifname}`);
    const r1 = await this.exec.run([NSENTER_BIN, `--net=${w.netns}`, IP_BIN, '-batch', '-'], pod.join('\n') + '\n');
    if (r1.code !== 0) {
      if (/No such file|cannot open|reassociate|Invalid argument/i.test(r1.stderr) && !/RTNETLINK/.test(r1.stderr)) {
        throw new CniError(CNI_ERROR.UNKNOWN_CONTAINER, `network namespace ${w.netns} is not usable: ${r1.stderr.trim()}`);
      }
      throw failed(`configuring ${w.ifname} in ${w.netns}`, r1);
    }
    // Host side: the sysctls first (proxy ARP must answer the pod's first ARP), then up and the route.
    const conf4 = `net/ipv4/conf/${w.hostIf}`;
    const sysctls: [string, string][] = [
      [`${conf4}/proxy_arp`, '1'],
      [`net/ipv4/neigh/${w.hostIf}/proxy_delay`, '0'],
      [`${conf4}/forwarding`, '1'],
      [`${conf4}/route_localnet`, '1'],
    ];
    if (v6) sysctls.push([`net/ipv6/conf/${w.hostIf}/proxy_ndp`, '1'], [`net/ipv6/conf/${w.hostIf}/forwarding`, '1'], [`net/ipv6/conf/${w.hostIf}/accept_ra`, '0']);
    for (const [p, v] of sysctls) {
      try {
        await this.exec.writeSysctl(p, v);
      } catch (e) {
        throw new CniError(CNI_ERROR.IO_FAILURE, `setting ${p.replace(/\//g, '.')}=${v}: ${(e as Error).message}`);
      }
    }
    const host = [`link set ${w.hostIf} up`, ...w.ips.map((ip) => `${ip.version === 6 ? '-6 ' : ''}route replace ${ip}/${ip.version === 4 ? 32 : 128} dev ${w.hostIf} scope link proto boot`)];
    const r2 = await this.exec.run([IP_BIN, '-batch', '-'], host.join('\n') + '\n');
    if (r2.code !== 0) throw failed(`configuring ${w.hostIf}`, r2);
  }

  /** Removes the host end (the kernel removes its peer); nothing there is fine. */
  async remove(hostIf: string): Promise<void> {
    // Usually there is nothing to remove (every ADD first clears what a previous attempt left):
    // a look in /proc saves starting `ip` (≈4 ms of an ADD).
    if (this.exec.hasLink && !(await this.exec.hasLink(hostIf).catch(() => true))) return;
    const r = await this.exec.run([IP_BIN, 'link', 'del', hostIf]);
    if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) throw failed(`deleting ${hostIf}`, r);
  }

  async exists(hostIf: string): Promise<boolean> {
    const r = await this.exec.run([IP_BIN, 'link', 'show', hostIf]);
    return r.code === 0;
  }

  /** CHECK: the pod interface has the addresses and the default route; the host side is up with its /32 routes. */
  async check(w: Omit<WireRequest, 'containerMac' | 'mtu'>): Promise<void> {
    const pod = await this.exec.run([NSENTER_BIN, `--net=${w.netns}`, IP_BIN, '-j', 'addr', 'show', 'dev', w.ifname]);
    if (pod.code !== 0) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: ${w.ifname} is missing in ${w.netns}: ${pod.stderr.trim()}`);
    const addrs = (JSON.parse(pod.stdout || '[]') as { addr_info?: { local: string }[] }[]).flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
    for (const ip of w.ips) if (!addrs.includes(ip.toString())) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: ${ip} is not on ${w.ifname}`);
    const routes = await this.exec.run([NSENTER_BIN, `--net=${w.netns}`, IP_BIN, '-j', 'route', 'show', 'default']);
    if (w.ips.some((ip) => ip.version === 4) && !routes.stdout.includes(GATEWAY4)) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: no default route via ${GATEWAY4} in ${w.netns}`);
    const host = await this.exec.run([IP_BIN, '-j', 'route', 'show', 'dev', w.hostIf]);
    if (host.code !== 0) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: host interface ${w.hostIf} is missing`);
    const dsts = (JSON.parse(host.stdout || '[]') as { dst: string }[]).map((r) => r.dst);
    for (const ip of w.ips) if (ip.version === 4 && !dsts.includes(ip.toString())) throw new CniError(CNI_ERROR.IO_FAILURE, `CHECK: no route to ${ip} via ${w.hostIf}`);
  }
}
