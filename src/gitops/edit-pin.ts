// Reading and rewriting the one scalar that pins a service's image in a config file, byte for byte:
// the file is parsed into yaml's CST, the pinned scalar is found through the composed documents
// (keepSourceTokens), its token is rewritten with CST.setScalarValue — keeping its quoting — and the
// CST is stringified, which reproduces every other byte (comments, key order, blank lines, other
// documents) exactly as it was. Never parse-and-dump.

import { Composer, CST, isMap, isScalar, isSeq, Parser, parse, type Document, type Node, type Scalar } from 'yaml';
import type { GitOpsPin } from '../core/gitops-spec.js';

/** A file that does not hold the pin (missing key, image or container; not YAML): the message says which. */
export class PinError extends Error {}

/** The tag of an image reference (`registry:5000/team/app:1.2` → `1.2`), or null when it has none. */
export function imageTag(image: string): string | null {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : null;
}

/** The repository of an image reference, without its tag. */
export function imageRepository(image: string): string {
  const tag = imageTag(image);
  return tag === null ? image : image.slice(0, image.length - tag.length - 1);
}

interface Parsed {
  tokens: CST.Token[];
  documents: Document.Parsed[];
}

function parseFile(text: string, path: string): Parsed {
  const tokens = [...new Parser().parse(text)];
  const documents = [...new Composer({ keepSourceTokens: true }).compose(tokens)];
  const broken = documents.find((document) => document.errors.length > 0);
  if (broken) throw new PinError(`${path} is not valid YAML: ${broken.errors[0]!.message.split('\n')[0]}`);
  return { tokens, documents };
}

function get(node: unknown, key: string): unknown {
  return isMap(node) ? node.get(key, true) : undefined;
}

function scalarText(node: Scalar): string {
  return node.value === null ? '' : String(node.value);
}

function asScalar(node: unknown, what: string): Scalar {
  if (!isScalar(node) || (node.value !== null && typeof node.value === 'object')) throw new PinError(`${what} is not a scalar value`);
  if (!(node as Node).srcToken) throw new PinError(`${what} has no source position`);
  return node;
}

function containersOf(document: Document.Parsed): unknown {
  const spec = get(document.contents, 'spec');
  const template = get(spec, 'template') ?? get(get(get(spec, 'jobTemplate'), 'spec'), 'template');
  return get(get(template, 'spec'), 'containers') ?? get(spec, 'containers');
}

/** The scalar node that holds the pin in `text` (file `path`, for messages). */
function locate(parsed: Parsed, pin: GitOpsPin, path: string): Scalar {
  switch (pin.kind) {
    case 'helmValues': {
      let node: unknown = parsed.documents[0]?.contents;
      for (const [i, key] of pin.path.entries()) {
        node = get(node, key);
        if (node === undefined) throw new PinError(`${path} has no key ${pin.path.slice(0, i + 1).join('.')}`);
      }
      return asScalar(node, `${path}: ${pin.path.join('.')}`);
    }
    case 'kustomizeImage': {
      const images = get(parsed.documents[0]?.contents, 'images');
      if (!isSeq(images)) throw new PinError(`${path} has no images: list`);
      const entry = images.items.find((item) => {
        const name = get(item, 'name');
        return isScalar(name) && name.value === pin.image;
      });
      if (!entry) throw new PinError(`${path} has no images entry with name ${pin.image}`);
      const tag = get(entry, 'newTag');
      if (tag === undefined) throw new PinError(`${path}: images[name=${pin.image}] has no newTag`);
      return asScalar(tag, `${path}: images[name=${pin.image}].newTag`);
    }
    case 'manifest': {
      const document = parsed.documents.find((candidate) => {
        const kind = get(candidate.contents, 'kind');
        const name = get(get(candidate.contents, 'metadata'), 'name');
        return isScalar(kind) && kind.value === pin.manifestKind && isScalar(name) && name.value === pin.name;
      });
      if (!document) throw new PinError(`${path} has no ${pin.manifestKind} named ${pin.name}`);
      const containers = containersOf(document);
      const container = isSeq(containers)
        ? containers.items.find((item) => {
            const name = get(item, 'name');
            return isScalar(name) && name.value === pin.container;
          })
        : undefined;
      if (!container) throw new PinError(`${path}: ${pin.manifestKind} ${pin.name} has no container named ${pin.container}`);
      const image = get(container, 'image');
      if (image === undefined) throw new PinError(`${path}: ${pin.manifestKind} ${pin.name} container ${pin.container} has no image`);
      return asScalar(image, `${path}: ${pin.manifestKind} ${pin.name} container ${pin.container} image`);
    }
  }
}

/** The pinned value: the tag (helmValues, kustomizeImage) or the whole image reference (manifest). */
export function readPin(text: string, pin: GitOpsPin, path: string): string {
  return scalarText(locate(parseFile(text, path), pin, path));
}

/** A plain scalar that would read back as something else than this string (1.10, true, null…) gets double quotes. */
function needsQuotes(value: string): boolean {
  try {
    return parse(value) !== value;
  } catch {
    return true;
  }
}

/** `text` with only the pinned scalar changed to `value`; every other byte as it was. */
export function writePin(text: string, pin: GitOpsPin, value: string, path: string): string {
  const parsed = parseFile(text, path);
  const node = locate(parsed, pin, path);
  if (scalarText(node) === value) return text;
  const token = (node as Node).srcToken as CST.Token;
  const plain = token.type === 'scalar';
  CST.setScalarValue(token, value, plain && needsQuotes(value) ? { type: 'QUOTE_DOUBLE' } : {});
  const written = parsed.tokens.map((t) => CST.stringify(t)).join('');
  // The edit must read back as exactly the value asked for.
  const check = readPin(written, pin, path);
  if (check !== value) throw new PinError(`${path}: writing ${value} would read back as ${check}`);
  return written;
}
