// Which GitLab environment a release's deployments go to, and which tier canarybot makes sure it
// has. A tier is decided only when the definition names one or the namespace looks like
// production (so GitLab's DORA deployment frequency counts the release); otherwise none, and
// GitLab keeps guessing the tier from the name as it always did.

import type { EnvironmentSpec, EnvironmentTier } from '../core/definition.js';
import { renderEnvironmentName } from '../core/environment-name.js';

export interface DeploymentEnvironment {
  name: string;
  tier?: EnvironmentTier;
}

const PRODUCTION_NAMESPACE = /(^|[-_.])(prod|production|live)([-_.]|$)/i;

export function deploymentEnvironment(
  spec: EnvironmentSpec | undefined,
  where: { cluster: string; namespace: string; service: string },
): DeploymentEnvironment {
  const name = spec?.name !== undefined ? renderEnvironmentName(spec.name, where) : `${where.cluster}/${where.namespace}/${where.service}`;
  const tier = spec?.tier ?? (PRODUCTION_NAMESPACE.test(where.namespace) ? 'production' : undefined);
  return tier ? { name, tier } : { name };
}
