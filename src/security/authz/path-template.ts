// Envoy URI-template path matching for AuthorizationPolicy `paths` (Istio: "{*}" matches one path
// segment, "{**}" zero or more segments and must be the last operator). Templates compile to one
// anchored regex at config time.

const ONE = '{*}';
const ANY = '{**}';

export function isPathTemplate(value: string): boolean {
  return value.includes('{') || value.includes('}');
}

/** Why a template is not supported, or undefined when it is valid. */
export function pathTemplateProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return `path template "${value}" must start with "/"`;
  const segments = value.slice(1).split('/');
  let sawAny = false;
  for (const seg of segments) {
    const isOp = seg === ONE || seg === ANY;
    if (isOp) {
      if (sawAny) return `path template "${value}": "{**}" must be the last operator`;
      if (seg === ANY) sawAny = true;
      continue;
    }
    if (seg.includes('{') || seg.includes('}') || seg.includes('*')) {
      return `invalid or unsupported path template "${value}": only "{*}" and "{**}" are supported, each as a whole path segment`;
    }
  }
  return undefined;
}

/** Compiles a valid template (see pathTemplateProblem) to a full-match regex over the path without query. */
export function compilePathTemplate(value: string): RegExp {
  const parts = value.slice(1).split('/').map((seg) => {
    if (seg === ONE) return '[^/?#]+';
    if (seg === ANY) return '[^?#]*';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^/${parts.join('/')}$`);
}
