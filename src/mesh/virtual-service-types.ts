// The slice of Istio's VirtualService that canarybot reads and writes. Every other field is carried
// through untouched (index signatures), so a user's object survives a round trip exactly.

export interface PortSelector {
  number?: number;
  [key: string]: unknown;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
  [key: string]: unknown;
}

export interface RouteDestination {
  destination: Destination;
  weight?: number;
  [key: string]: unknown;
}

export interface HttpRoute {
  name?: string;
  match?: Record<string, unknown>[];
  route?: RouteDestination[];
  mirror?: Destination;
  mirrorPercentage?: { value?: number; [key: string]: unknown };
  /** Several mirror destinations (Istio 1.18+); canarybot uses it to mirror to canary and baseline. */
  mirrors?: { destination: Destination; percentage?: { value?: number; [key: string]: unknown }; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface VirtualServiceObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  spec: { hosts?: string[]; http?: HttpRoute[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** What the VirtualService edit needs to know about a release target (ReleaseTarget satisfies it). */
export interface ManagedRouteRef {
  service: string;
  route?: string;
  host: string;
  stable: { subset: string };
  canary: { subset: string };
  /** With target.baseline: the baseline's subset, which gets the canary's weight. */
  baseline?: { subset: string };
}
