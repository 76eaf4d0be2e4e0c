/** k8s SecretKeySelector and Calico's BGPPassword wrapper (shared by BGPPeer and BGPConfiguration). */
import { bool, f, opt, optPtr, str, struct } from '../schema/types.js';

export const secretKeySelector = struct(
  'v1.SecretKeySelector',
  [opt('name', str({ default: '' })), f('key', str(), 'Key', 'req'), optPtr('optional', bool())],
);

export const bgpPassword = struct('BGPPassword', [optPtr('secretKeyRef', secretKeySelector, 'SecretKeyRef')]);
