// The one field manager every Kubernetes write of canarybot names (`?fieldManager=canarybot`), so
// managedFields show what canarybot owns and Argo CD's `managedFieldsManagers: [canarybot]` can
// ignore exactly those fields. DELETE takes no field manager in the Kubernetes API.

export const FIELD_MANAGER = 'canarybot';
