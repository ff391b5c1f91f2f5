import type { Definition } from '../core/definition.js';
import type { ProjectRef } from './intake-job.js';

/** Whether a definition's `trigger.project` (numeric id or `group/name` path) names this project. */
export function watchesProject(definition: Definition, project: ProjectRef): boolean {
  const wanted = definition.trigger.project;
  if (typeof wanted === 'number') return wanted === project.id;
  if (/^\d+$/.test(wanted)) return Number(wanted) === project.id;
  return wanted.toLowerCase() === project.path.toLowerCase();
}
