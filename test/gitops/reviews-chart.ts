// A minimal Helm chart for `reviews` as a config repository holds it: values.yaml pins the stable
// image's tag (what canarybot's helmValues entry edits), templates render the stable and canary
// Deployments and the VirtualService, in the template subset the simulated Helm renders.

export const REVIEWS_CHART_VALUES = `# reviews — values for the stable release
image:
  repository: registry.example.com/bookinfo/reviews
  tag: v1   # canarybot writes this
replicas: 3
`;

const DEPLOYMENT = (name: string, track: string, replicas: string, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: reviews
      track: ${track}
  template:
    metadata:
      labels:
        app: reviews
        track: ${track}
    spec:
      containers:
        - name: reviews
          image: ${image}
        - name: sidecar
          image: proxy:1
`;

/** Chart files under `dir` (no trailing slash). */
export function reviewsChart(dir: string, values = REVIEWS_CHART_VALUES): Record<string, string> {
  return {
    [`${dir}/Chart.yaml`]: 'apiVersion: v2\nname: reviews\nversion: 1.4.0\n',
    [`${dir}/values.yaml`]: values,
    [`${dir}/templates/_helpers.tpl`]: '{{/* not rendered: starts with an underscore */}}\n',
    [`${dir}/templates/stable.yaml`]: DEPLOYMENT('reviews-primary', 'stable', '{{ .Values.replicas }}', '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"'),
    [`${dir}/templates/canary.yaml`]: DEPLOYMENT('reviews-canary', 'canary', '0', '{{ .Values.image.repository }}:{{ .Values.image.tag | default "latest" }}'),
    [`${dir}/templates/virtualservice.yaml`]: `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: {{ .Release.Namespace | quote }}
spec:
  hosts: [reviews]
  http:
    - name: primary
      route:
        - destination: { host: reviews, subset: stable }
          weight: 100
`,
  };
}
