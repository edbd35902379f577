import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergePrometheusText } from './prometheus-merge.js';

const cases: ReadonlyArray<{ readonly name: string; readonly inputs: ReadonlyArray<string>; readonly expected: string }> = [
  {
    name: 'counters with the same labels are summed, different labels kept apart',
    inputs: [
      '# HELP istio_requests_total Requests.\n# TYPE istio_requests_total counter\nistio_requests_total{response_code="200"} 3\nistio_requests_total{response_code="404"} 1\n',
      '# HELP istio_requests_total Requests.\n# TYPE istio_requests_total counter\nistio_requests_total{response_code="200"} 4\n',
    ],
    expected: '# HELP istio_requests_total Requests.\n# TYPE istio_requests_total counter\nistio_requests_total{response_code="200"} 7\nistio_requests_total{response_code="404"} 1\n',
  },
  {
    name: 'histogram buckets, sums and counts are summed under their family',
    inputs: [
      '# TYPE d histogram\nd_bucket{le="1"} 1\nd_bucket{le="+Inf"} 2\nd_sum 3.5\nd_count 2\n',
      '# TYPE d histogram\nd_bucket{le="1"} 0\nd_bucket{le="+Inf"} 1\nd_sum 1.25\nd_count 1\n',
    ],
    expected: '# TYPE d histogram\nd_bucket{le="1"} 1\nd_bucket{le="+Inf"} 3\nd_sum 4.75\nd_count 3\n',
  },
  {
    name: 'process-describing gauges keep the largest value; other gauges are summed',
    inputs: [
      '# TYPE istio_build gauge\nistio_build{tag="x"} 1\n# TYPE waypoint_config_version gauge\nwaypoint_config_version 4\n# TYPE conns gauge\nconns 2\n',
      '# TYPE istio_build gauge\nistio_build{tag="x"} 1\n# TYPE waypoint_config_version gauge\nwaypoint_config_version 5\n# TYPE conns gauge\nconns 3\n',
    ],
    expected: '# TYPE istio_build gauge\nistio_build{tag="x"} 1\n# TYPE waypoint_config_version gauge\nwaypoint_config_version 5\n# TYPE conns gauge\nconns 5\n',
  },
  {
    name: 'label values with spaces and braces are kept whole; OpenMetrics EOF dropped',
    inputs: ['m{path="/a b",x="}"} 1\n# EOF\n', 'm{path="/a b",x="}"} 2\n'],
    expected: 'm{path="/a b",x="}"} 3\n',
  },
  { name: 'nothing to merge', inputs: [], expected: '\n' },
];

for (const c of cases) test(c.name, () => assert.equal(mergePrometheusText(c.inputs), c.expected));
