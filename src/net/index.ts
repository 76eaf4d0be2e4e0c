/*
 * tortie/net: IPv4/IPv6 addresses and prefixes as compact values, with Go's net package rules (which Calico's
 * libcalico-go/lib/net wraps) for what parses and how it prints.
 *
 *  - IP, Prefix: immutable values; IPv4 held as a uint32 number, IPv6 as a bigint. IPv4-mapped IPv6 is IPv4.
 *  - v4Parse / v4Format / v4Mask / v4Contains: IPv4 as bare numbers, for hot paths (BGP RIBs, route tables).
 *  - parseIPPort: BGPPeer peerIP forms.  MAC: hardware addresses.
 *  - NetError: every failure, with a stable `code`.
 * See each file's opening comment for the Go quirks it reproduces.
 */

export { NetError, NetErrorCode } from './errors.js';
export { IP, isV4Mapped } from './ip.js';
export type { IPVersion } from './ip.js';
export { Prefix } from './prefix.js';
export type { CIDRParts } from './prefix.js';
export { parseIPPort } from './ipport.js';
export type { IPPort } from './ipport.js';
export { MAC } from './mac.js';
export { v4Parse, v4Format, v4Mask, v4Contains } from './v4.js';
export { v6Parse, v6Format, v6Mask } from './v6.js';
