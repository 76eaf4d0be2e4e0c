/**
 * Node address autodetection, as calico-node's IP_AUTODETECTION_METHOD
 * (`node/pkg/lifecycle/startup/autodetection`):
 *  - `first-found` (default): the first address (by interface index) of an interface not matching
 *    Calico's exclusion list (`docker.*`, `cbr.*`, `dummy.*`, `virbr.*`, `lxcbr.*`, `veth.*`, `lo`,
 *    `cali.*`, `tunl.*`, `flannel.*`, `kube-ipvs.*`, `cni.*`, `vxlan.calico.*`, `vxlan-v6.calico.*`,
 *    `wireguard.cali.*`, `wg-v6.cali.*`, `nodelocaldns.*`), skipping link-local addresses;
 *  - `interface=<regex>[,<regex>…]`: the first address of the first interface matching one;
 *  - `skip-interface=<regex>[,…]`: first-found, also skipping those;
 *  - `cidr=<cidr>[,<cidr>…]`: the first address inside one of them;
 *  - `can-reach=<ip or host>`: the local address the kernel picks to reach it (a connected UDP
 *    socket: nothing is sent).
 * The result is the address WITH its subnet (`10.0.0.1/24`), as Node `spec.bgp.ipv4Address` wants.
 */
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { IP, Prefix } from '../net/index.js';

export interface IfaceAddress {
  iface: string;
  address: string;
  prefixLength: number;
  family: 4 | 6;
}

export interface Detected {
  iface: string;
  /** `10.0.0.1/24` */
  cidr: string;
  address: string;
}

export class AutodetectError extends Error {
  readonly code = 'AUTODETECT' as const;
}

export const DEFAULT_EXCLUDES = [
  '^docker.*', '^cbr.*', '^dummy.*', '^virbr.*', '^lxcbr.*', '^veth.*', '^lo$', '^cali.*', '^tunl.*', '^flannel.*',
  '^kube-ipvs.*', '^cni.*', '^vxlan.calico.*', '^vxlan-v6.calico.*', '^wireguard.cali.*', '^wg-v6.cali.*', '^nodelocaldns.*',
];

/** This namespace's addresses, interfaces in the kernel's (index) order. */
export function hostAddresses(): IfaceAddress[] {
  const out: IfaceAddress[] = [];
  for (const [iface, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      const prefixLength = Number(a.cidr?.split('/')[1] ?? (a.family === 'IPv4' ? 32 : 128));
      out.push({ iface, address: a.address, prefixLength, family: a.family === 'IPv4' ? 4 : 6 });
    }
  }
  return out;
}

function isLinkLocal(a: IfaceAddress): boolean {
  return a.family === 4 ? a.address.startsWith('169.254.') : /^fe[89ab]/i.test(a.address);
}

const cidrOf = (a: IfaceAddress): Detected => ({ iface: a.iface, cidr: `${a.address}/${a.prefixLength}`, address: a.address });

/** The local address used to reach `dest` (no packet is sent). */
export function localAddressFor(dest: string, family: 4 | 6): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(family === 4 ? 'udp4' : 'udp6');
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.connect(53, dest, () => {
      const addr = s.address().address;
      s.close();
      resolve(addr);
    });
  });
}

export async function autodetect(
  method: string,
  family: 4 | 6,
  addrs: readonly IfaceAddress[] = hostAddresses(),
  reach: (dest: string, family: 4 | 6) => Promise<string> = localAddressFor,
): Promise<Detected | undefined> {
  const candidates = addrs.filter((a) => a.family === family && !isLinkLocal(a));
  const regexes = (list: string) =>
    list.split(',').map((r) => {
      try {
        return new RegExp(r.trim());
      } catch {
        throw new AutodetectError(`invalid interface regex ${JSON.stringify(r)} in autodetection method ${JSON.stringify(method)}`);
      }
    });
  const notExcluded = (extra: RegExp[]) => {
    const ex = [...DEFAULT_EXCLUDES.map((r) => new RegExp(r)), ...extra];
    return candidates.filter((a) => !ex.some((r) => r.test(a.iface)));
  };
  if (method === '' || method === 'first-found') {
    const a = notExcluded([])[0];
    return a && cidrOf(a);
  }
  const eq = method.indexOf('=');
  const kind = eq < 0 ? method : method.slice(0, eq);
  const arg = eq < 0 ? '' : method.slice(eq + 1);
  switch (kind) {
    case 'interface': {
      for (const r of regexes(arg)) {
        const a = candidates.find((c) => r.test(c.iface));
        if (a) return cidrOf(a);
      }
      return undefined;
    }
    case 'skip-interface': {
      const a = notExcluded(regexes(arg))[0];
      return a && cidrOf(a);
    }
    case 'cidr': {
      const nets = arg.split(',').map((c) => {
        const p = Prefix.tryParse(c.trim());
        if (!p) throw new AutodetectError(`invalid CIDR ${JSON.stringify(c)} in autodetection method ${JSON.stringify(method)}`);
        return p;
      });
      const a = candidates.find((c) => nets.some((n) => n.contains(IP.parse(c.address))));
      return a && cidrOf(a);
    }
    case 'can-reach': {
      if (!arg) throw new AutodetectError(`autodetection method ${JSON.stringify(method)} needs a destination`);
      let local: string;
      try {
        local = await reach(arg, family);
      } catch (e) {
        throw new AutodetectError(`cannot autodetect with ${method}: ${(e as Error).message}`);
      }
      const a = candidates.find((c) => c.address === local);
      return a && cidrOf(a);
    }
    default:
      throw new AutodetectError(
        `invalid IP autodetection method ${JSON.stringify(method)}: expected first-found, interface=REGEX, skip-interface=REGEX, cidr=CIDR or can-reach=DEST`,
      );
  }
}
