// What the API server checks before storing a VirtualService or DestinationRule: Istio's CRD
// openAPIV3Schema (istio-crd-schemas.json beside this file, Istio 1.30.3; all served versions share it), then the rules
// of istiod's validating webhook that the schema cannot express (weights).

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
// Imported (not read from disk) so tsc copies it into dist/ for the demo.
import schemaFile from './istio-crd-schemas.json' with { type: 'json' };

export type IstioKind = 'VirtualService' | 'DestinationRule';

export interface Cause {
  field: string;
  message: string;
}

const int = (bits: number, signed: boolean) => (value: number) =>
  Number.isInteger(value) && (signed ? value >= -(2 ** (bits - 1)) && value < 2 ** (bits - 1) : value >= 0 && value < 2 ** bits);

let validators: Record<IstioKind, ValidateFunction> | null = null;

function compile(): Record<IstioKind, ValidateFunction> {
  const schemas = schemaFile as unknown as Record<string, object>;
  // strict: false ignores the x-kubernetes-* extensions; CEL rules (x-kubernetes-validations) are not evaluated.
  // optimize: false halves the compile time of these large schemas; validation stays well under a millisecond.
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, code: { optimize: false } });
  ajv.addFormat('int32', { type: 'number', validate: int(32, true) });
  ajv.addFormat('uint32', { type: 'number', validate: int(32, false) });
  ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
  ajv.addFormat('double', { type: 'number', validate: Number.isFinite });
  ajv.addFormat('float', { type: 'number', validate: Number.isFinite });
  return {
    VirtualService: ajv.compile(schemas.VirtualService as object),
    DestinationRule: ajv.compile(schemas.DestinationRule as object),
  };
}

function schemaCauses(errors: ErrorObject[]): Cause[] {
  return errors.map((error) => ({
    field: error.instancePath.slice(1).replace(/\//g, '.') || '<root>',
    message: error.message ?? 'invalid',
  }));
}

interface RouteLike {
  route?: { weight?: unknown }[];
}

function webhookCauses(kind: IstioKind, object: Record<string, unknown>): Cause[] {
  if (kind !== 'VirtualService') return [];
  const spec = (object.spec ?? {}) as { http?: RouteLike[]; tcp?: RouteLike[]; tls?: RouteLike[] };
  const causes: Cause[] = [];
  for (const section of ['http', 'tcp', 'tls'] as const) {
    (spec[section] ?? []).forEach((route, r) => {
      const destinations = route.route ?? [];
      let total = 0;
      destinations.forEach((destination, d) => {
        const weight = typeof destination.weight === 'number' ? destination.weight : 0;
        if (weight < 0) causes.push({ field: `spec.${section}[${r}].route[${d}].weight`, message: `weight ${weight} < 0` });
        total += weight;
      });
      if (destinations.length > 1 && total === 0) {
        causes.push({ field: `spec.${section}[${r}].route`, message: 'total destination weight = 0' });
      }
    });
  }
  return causes;
}

/** Every reason the object would be refused; empty when it is valid. */
export function validateIstioObject(kind: IstioKind, object: Record<string, unknown>): Cause[] {
  validators ??= compile();
  const validate = validators[kind];
  const schemaValid = validate(object);
  const causes = schemaValid ? [] : schemaCauses(validate.errors ?? []);
  return [...causes, ...webhookCauses(kind, object)];
}
