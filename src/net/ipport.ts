/*
 * "IP or IP:port" as BGPPeer.spec.peerIP takes it: "<IP>", "<IPv4>:<port>" or "[<IPv6>]:<port>".
 *
 * Mirrors Calico's processIPPort (libcalico-go/lib/validator/v3/validator.go), quirks included:
 *  - A port form is recognised only by Calico's two patterns: `^(\d+).(\d+).(\d+).(\d+):(\d+)$` (its dots are
 *    regexp wildcards) and `^\[[0-9a-fA-F:.]+\]:(\d+)$`. Anything else must be a bare IP by net.ParseIP, so
 *    "[::1]" and "::1:179"-style guesses are simply IPs or errors, never a port.
 *  - The port is strconv.ParseUint(base 10, 16 bits): leading zeros are fine ("0179" is 179), 0 and > 65535 are
 *    refused.
 *  - Brackets around IPv4 pass: "[1.2.3.4]:179" is 1.2.3.4 port 179 (the pattern allows dots, ParseIP accepts).
 *  - "::ffff:1.2.3.4" is an IPv4 address, as everywhere in this module.
 */

import { NetError } from './errors.js';
import { IP } from './ip.js';

const IPV4_PORT = /^(\d+)[^\n](\d+)[^\n](\d+)[^\n](\d+):(\d+)$/; // Go's "." is "any character but \n"
const IPV6_PORT = /^\[[0-9a-fA-F:.]+\]:(\d+)$/;

export interface IPPort {
  ip: IP;
  /** 1..65535; absent when the text had no port. */
  port?: number;
}

function fail(s: string, why: string): never {
  throw new NetError('INVALID_IP_PORT', s, `invalid IP or IP:port ${JSON.stringify(s)}: ${why}`);
}

/** Parses "<IP>", "<IPv4>:<port>" or "[<IPv6>]:<port>". Throws NetError INVALID_IP_PORT. */
export function parseIPPort(s: string): IPPort {
  let host = s;
  let port: number | undefined;
  if (IPV4_PORT.test(s) || IPV6_PORT.test(s)) {
    // net.SplitHostPort: the port follows the last colon; "[...]" is stripped. Hosts it would refuse
    // (extra colons, stray brackets) are refused by the IP parser below just the same.
    const colon = s.lastIndexOf(':');
    host = s.startsWith('[') ? s.slice(1, colon - 1) : s.slice(0, colon);
    port = 0;
    for (let i = colon + 1; i < s.length; i++) {
      port = port * 10 + (s.charCodeAt(i) - 48); // ASCII digits only: the patterns say so
      if (port > 65535) fail(s, 'port must be 1..65535');
    }
    if (port === 0) fail(s, 'port must be 1..65535');
  }
  const ip = IP.tryParse(host);
  if (ip === undefined) fail(s, 'not an IP address');
  return port === undefined ? { ip } : { ip, port };
}
