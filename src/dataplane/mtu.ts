/**
 * Host MTU auto-detection (calico-compat §6.6; felix `findHostMTU`, `ConfigureDefaultMTUs`): the
 * smallest MTU among the operationally-up interfaces whose name matches `mtuIfacePattern`; none
 * ⇒ 1460 (a value that fits most clouds). Pure: the caller passes `Netlink.listLinks()`.
 */
import type { Link } from './port.js';

/** FelixConfiguration `mtuIfacePattern` default. */
export const DEFAULT_MTU_IFACE_PATTERN = '^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)';
export const DEFAULT_HOST_MTU = 1460;

/** Encapsulation overheads felix subtracts from the host MTU for an unset tunnel MTU. */
export const MTU_OVERHEAD = { ipip: 20, vxlan: 50, vxlanV6: 70, wireguard: 60, wireguardV6: 80 } as const;

export function detectHostMtu(
  links: readonly Pick<Link, 'name' | 'mtu' | 'operUp'>[],
  pattern: string | RegExp = DEFAULT_MTU_IFACE_PATTERN,
): number {
  // A copy without the g/y flags: a stateful RegExp would skip every other interface.
  const re = new RegExp(typeof pattern === 'string' ? pattern : pattern.source, typeof pattern === 'string' ? '' : pattern.flags.replace(/[gy]/g, ''));
  let smallest = 0;
  for (const l of links) {
    if (!l.operUp || !re.test(l.name) || l.mtu <= 0) continue;
    if (smallest === 0 || l.mtu < smallest) smallest = l.mtu;
  }
  return smallest || DEFAULT_HOST_MTU;
}
