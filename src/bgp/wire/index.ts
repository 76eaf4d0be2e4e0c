/*
 * tortie/bgp/wire: the BGP-4 codec. Pure functions over Buffers (STYLE 1): a framer for the TCP stream,
 * decoders that never throw on peer input (RFC 7606 outcomes as data), encoders for every message.
 *
 *   framer.ts        Framer: TCP chunks -> whole messages, header checked before the body is kept
 *   message.ts       decodeMessage (dispatch + header checks), KEEPALIVE, ROUTE-REFRESH
 *   open.ts          OPEN with capabilities (capabilities.ts, one descriptor per capability), RFC 9072
 *   update.ts        UPDATE decoding with RFC 7606 handling; attributes.ts: one descriptor per attribute
 *   update-encode.ts UPDATE encoding: encodeUpdate, encodeUpdates (packing), encodeEndOfRib
 *   notification.ts  NOTIFICATION, RFC 9003 shutdown communication, RFC 8538 hard reset, errorName
 *   aspath.ts, nlri.ts, family.ts   AS paths (RFC 6793 merge), prefixes, address family descriptors
 *   constants.ts     wire numbers; errors.ts: WireProblem (peer input) and WireError (local misuse)
 */

export * from './constants.js';
export { WireError, WireErrorCode, stronger } from './errors.js';
export type { Handling, WireProblem } from './errors.js';
export type {
  KeepaliveMessage,
  Message,
  MessageError,
  NlriInput,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
  WireContext,
} from './model.js';
export { Framer } from './framer.js';
export { decodeMessage, decodeRouteRefresh, encodeKeepalive, encodeRouteRefresh } from './message.js';
export { decodeOpen, encodeOpen, peerAs } from './open.js';
export type { OpenInput } from './open.js';
export {
  CAPABILITY_TABLE,
  decodeCapabilities,
  encodeCapabilities,
  formatCapability,
  summarizeCapabilities,
} from './capabilities.js';
export type { Capability, CapabilityDescriptor, CapabilitySummary, GracefulRestartFamily } from './capabilities.js';
export { decodeUpdate } from './update.js';
export { encodeEndOfRib, encodeUpdate, encodeUpdates } from './update-encode.js';
export type { UpdateInput } from './update-encode.js';
export { ATTRIBUTES, ATTRIBUTE_BY_TYPE, formatAttributes } from './attributes.js';
export type { AttrDescriptor, AttrFailure } from './attributes.js';
export { decodeNotification, decodeShutdownCommunication, encodeNotification, errorName } from './notification.js';
export type { NotificationInput } from './notification.js';
export { FAMILY_TABLE, familyByAfiSafi } from './family.js';
export type { FamilyDescriptor } from './family.js';
export { maxLength } from './header.js';
