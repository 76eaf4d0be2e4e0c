/*
 * The RIB: attribute intern table, Adj-RIB-In, decision process, Loc-RIB, Adj-RIB-Out with update groups,
 * import/export session rules, and `Rib`, which wires them together for the speaker. Pure data structures: no
 * sockets, no timers, no clock.
 */

export { AdjRibIn } from './adj-in.js';
export { AdjRibOut } from './adj-out.js';
export { Drained, UpdateGroup, prefixBytes4, prefixBytes6 } from './update-group.js';
export type { Batch, MemberView } from './update-group.js';
export { AttrSet, AttrTable, attrKey, prependPath, WK } from './attrs.js';
export { compare, decisionContext, selectBest, STEP_CODE, STEP_NAMES, STEPS } from './decision.js';
export type { Comparator, DecisionContext, DecisionOptions, DecisionStep, Path, StepName } from './decision.js';
export { RibError, RibErrorCode } from './errors.js';
export { checkImport, Exporter, groupKey } from './export.js';
export type { ExportProfile, ExportRefusal, ImportProfile, ImportVerdict, NextHopMode } from './export.js';
export { LocRib } from './loc-rib.js';
export type { BestChangeKind, BestListener, BestRoute, LocRibOptions } from './loc-rib.js';
export { addressKey, LOCAL_PEER, NO_PEER, PeerTable, routerIdNumber } from './peers.js';
export type { PeerInfo, PeerKind, PeerSpec } from './peers.js';
export { index4, index6, Prefix4Index, Prefix6Index } from './prefix-index.js';
export type { IndexFactory, PrefixIndex } from './prefix-index.js';
export { FamilyRib, Rib } from './rib.js';
export type { PeerConfig, PeerExport, RibOptions, UpdateResult } from './rib.js';
