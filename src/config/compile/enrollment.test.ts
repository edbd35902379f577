// Tests for enrollmentOf: which waypoint a Service uses, from the istio.io/use-waypoint labels on the
// Service and its Namespace ("resource-level label overrides namespace label"; `none` opts out).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';
import { type Enrollment, enrollmentOf } from './enrollment.js';

type Labels = Readonly<Record<string, string>> | undefined;

const W = 'istio.io/use-waypoint';
const WNS = 'istio.io/use-waypoint-namespace';

function labelsYaml(labels: Labels): string {
  if (labels === undefined) return '';
  return `\n  labels: ${JSON.stringify(labels)}`;
}

/** Enrollment of Service `apps/svc`; `nsLabels: null` means the Namespace object is absent from the config. */
function enrollment(svcLabels: Labels, nsLabels: Labels | null): Enrollment {
  const docs = [
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  namespace: apps${labelsYaml(svcLabels)}\nspec:\n  ports: [{port: 80}]\n`,
  ];
  if (nsLabels !== null) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps${labelsYaml(nsLabels)}\n`);
  const parsed = parseConfigText(docs.join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const { resources, diagnostics } = validateResources(parsed.resources);
  assert.deepEqual(diagnostics, []);
  const svc = resources.services.get('apps/svc');
  assert.ok(svc !== undefined, 'the Service validates');
  return enrollmentOf(svc, resources);
}

interface Case {
  readonly name: string;
  readonly svc: Labels;
  readonly ns: Labels | null;
  readonly want: Enrollment;
}

const cases: ReadonlyArray<Case> = [
  { name: 'no labels anywhere: no waypoint', svc: undefined, ns: undefined, want: { waypoint: undefined, source: 'none' } },
  { name: 'Namespace object absent from the config: no waypoint', svc: undefined, ns: null, want: { waypoint: undefined, source: 'none' } },
  { name: 'namespace label binds the Service to a waypoint in its own namespace', svc: undefined, ns: { [W]: 'wp' }, want: { waypoint: 'apps/wp', source: 'namespace' } },
  { name: 'namespace use-waypoint-namespace points the namespace label at another namespace', svc: undefined, ns: { [W]: 'wp', [WNS]: 'infra' }, want: { waypoint: 'infra/wp', source: 'namespace' } },
  { name: 'namespace label "none" binds nothing', svc: undefined, ns: { [W]: 'none' }, want: { waypoint: undefined, source: 'namespace' } },
  { name: 'namespace use-waypoint-namespace alone binds nothing', svc: undefined, ns: { [WNS]: 'infra' }, want: { waypoint: undefined, source: 'none' } },
  { name: 'service label binds the Service without a namespace label', svc: { [W]: 'wp' }, ns: undefined, want: { waypoint: 'apps/wp', source: 'service' } },
  { name: 'service label works when the Namespace object is absent', svc: { [W]: 'wp' }, ns: null, want: { waypoint: 'apps/wp', source: 'service' } },
  { name: 'service use-waypoint-namespace selects a waypoint in another namespace', svc: { [W]: 'wp', [WNS]: 'infra' }, ns: undefined, want: { waypoint: 'infra/wp', source: 'service' } },
  { name: 'service label overrides the namespace label', svc: { [W]: 'other' }, ns: { [W]: 'wp' }, want: { waypoint: 'apps/other', source: 'service' } },
  { name: 'service label "none" opts out of a labelled namespace', svc: { [W]: 'none' }, ns: { [W]: 'wp' }, want: { waypoint: undefined, source: 'service' } },
  { name: 'service label "None" opts out (case-insensitive)', svc: { [W]: 'None' }, ns: { [W]: 'wp' }, want: { waypoint: undefined, source: 'service' } },
  { name: 'service label "NONE" opts out (case-insensitive)', svc: { [W]: 'NONE' }, ns: { [W]: 'wp' }, want: { waypoint: undefined, source: 'service' } },
  {
    name: 'service label does not inherit the namespace use-waypoint-namespace',
    svc: { [W]: 'wp' },
    ns: { [W]: 'nswp', [WNS]: 'infra' },
    want: { waypoint: 'apps/wp', source: 'service' },
  },
  {
    name: 'service use-waypoint-namespace without use-waypoint is ignored: the namespace label applies',
    svc: { [WNS]: 'infra' },
    ns: { [W]: 'wp' },
    want: { waypoint: 'apps/wp', source: 'namespace' },
  },
  { name: 'service use-waypoint-namespace without any use-waypoint binds nothing', svc: { [WNS]: 'infra' }, ns: undefined, want: { waypoint: undefined, source: 'none' } },
  { name: 'unrelated labels are ignored', svc: { app: 'web', 'istio.io/dataplane-mode': 'ambient' }, ns: { 'istio.io/dataplane-mode': 'ambient' }, want: { waypoint: undefined, source: 'none' } },
];

for (const c of cases) {
  test(`enrollment: ${c.name}`, () => {
    assert.deepEqual(enrollment(c.svc, c.ns), c.want);
  });
}

test('enrollment: a namespace label applies only to Services of that namespace', () => {
  const text = [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: apps, labels: {istio.io/use-waypoint: wp}}\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: other}\nspec: {ports: [{port: 80}]}\n',
  ].join('---\n');
  const { resources } = validateResources(parseConfigText(text, 'test.yaml', 0).resources);
  const svc = resources.services.get('other/svc');
  assert.ok(svc !== undefined);
  assert.deepEqual(enrollmentOf(svc, resources), { waypoint: undefined, source: 'none' });
});
