{{/* ------------------------------------------------------------------ names, labels */}}

{{- define "township.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "township.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "township.labels" -}}
helm.sh/chart: {{ include "township.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: township-platform
{{- end -}}

{{/* Selector labels of the release (all pods). */}}
{{- define "township.releaseSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "permits") */}}
{{- define "township.selector" -}}
{{ include "township.releaseSelector" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Object name of one component: (dict "root" $ "component" "permits") */}}
{{- define "township.componentName" -}}
{{- printf "%s-%s" (include "township.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "township.townshipsConfigMap" -}}
{{- printf "%s-townships" (include "township.fullname" .) -}}
{{- end -}}

{{/* ------------------------------------------------------------------ values helpers */}}

{{/*
Deep merge that, unlike sprig's merge/mergeOverwrite, lets `false`, 0 and "" override:
(list base override) -> YAML of the merged map.
*/}}
{{- define "township.deepMerge" -}}
{{- $base := index . 0 -}}
{{- $over := index . 1 -}}
{{- $out := deepCopy $base -}}
{{- range $k, $v := $over -}}
{{- if and (kindIs "map" $v) (hasKey $out $k) (kindIs "map" (get $out $k)) -}}
{{- $_ := set $out $k (include "township.deepMerge" (list (get $out $k) $v) | fromYaml) -}}
{{- else -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The settings of one component, defaults merged in: (dict "root" $ "name" "permits") -> YAML */}}
{{- define "township.component" -}}
{{- $svc := get .root.Values.services .name | default dict -}}
{{- include "township.deepMerge" (list .root.Values.defaults $svc) -}}
{{- end -}}

{{/* Domain services (gRPC + database), in a fixed order. */}}
{{- define "township.domainServices" -}}
{{- toJson (list "permits" "enforcement" "personnel" "stationed") -}}
{{- end -}}

{{/* Enabled components, gateway last, as a JSON list. */}}
{{- define "township.enabledComponents" -}}
{{- $out := list -}}
{{- range $name := (include "township.domainServices" . | fromJsonArray) -}}
{{- if (get $.Values.services $name).enabled -}}
{{- $out = append $out $name -}}
{{- end -}}
{{- end -}}
{{- if .Values.services.gateway.enabled -}}
{{- $out = append $out "gateway" -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Image reference of a component: (dict "root" $ "name" "permits" "c" $component) */}}
{{- define "township.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $repo := .c.image.repository | default (printf "township-%s" .name) -}}
{{- $ref := $repo -}}
{{- if $g.registry -}}
{{- $ref = printf "%s/%s" (trimSuffix "/" $g.registry) $repo -}}
{{- end -}}
{{- if .c.image.digest -}}
{{- printf "%s@%s" $ref .c.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (.c.image.tag | default $g.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Env prefix of a component: TOWNSHIP_PERMITS_ */}}
{{- define "township.envPrefix" -}}
{{- printf "TOWNSHIP_%s_" (upper .) -}}
{{- end -}}

{{/* ------------------------------------------------------------------ townships */}}

{{/* The townships.json document (compact JSON; keys sorted by Helm). */}}
{{- define "township.townshipsJson" -}}
{{- toJson (dict "townships" .Values.townships) -}}
{{- end -}}

{{- define "township.townshipsChecksum" -}}
{{- include "township.townshipsJson" . | sha256sum -}}
{{- end -}}

{{/* Fails on duplicate slugs, and on a removed town unless allowTownshipRemoval. */}}
{{- define "township.validateTownships" -}}
{{- $slugs := list -}}
{{- range .Values.townships -}}
{{- if has .slug $slugs -}}
{{- fail (printf "townships: slug %q appears more than once" .slug) -}}
{{- end -}}
{{- $slugs = append $slugs .slug -}}
{{- end -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace (include "township.townshipsConfigMap" .) -}}
{{- if and $cm (not .Values.allowTownshipRemoval) -}}
{{- $annotations := $cm.metadata.annotations | default dict -}}
{{- $old := get $annotations "township.platform/slugs" | default "" -}}
{{- $removed := list -}}
{{- range $s := splitList "," $old -}}
{{- if and $s (not (has $s $slugs)) -}}
{{- $removed = append $removed $s -}}
{{- end -}}
{{- end -}}
{{- if $removed -}}
{{- fail (printf "townships: this upgrade would remove %s (still in the running release). Removing a town needs an explicit --set allowTownshipRemoval=true" (join ", " $removed)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ pod parts */}}

{{- define "township.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "township.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment of a component: (dict "root" $ "name" "permits" "c" $component) */}}
{{- define "township.env" -}}
{{- $root := .root -}}
{{- $p := include "township.envPrefix" .name -}}
- name: {{ $p }}ENVIRONMENT
  value: {{ $root.Values.environment | quote }}
- name: {{ $p }}LOG_LEVEL
  value: {{ .c.logLevel | default $root.Values.logLevel | quote }}
- name: {{ $p }}TOWNSHIPS_FILE
  value: /etc/township/townships.json
- name: {{ $p }}OTLP_ENDPOINT
  value: {{ $root.Values.observability.otlp.endpoint | quote }}
- name: {{ $p }}TRACE_SAMPLING_RATIO
  value: {{ $root.Values.observability.otlp.samplingRatio | quote }}
- name: {{ $p }}SHUTDOWN_GRACE_SECONDS
  value: {{ $root.Values.shutdownGraceSeconds | quote }}
- name: {{ $p }}SHUTDOWN_DRAIN_SECONDS
  value: {{ $root.Values.shutdownDrainSeconds | quote }}
- name: MALLOC_ARENA_MAX  # glibc: fewer malloc arenas, ~5-10 MiB less per process
  value: "2"
{{- with $root.Values.principalSigning }}
{{- if .existingSecret }}
- name: {{ $p }}PRINCIPAL_KEY_FILE
  value: /etc/township-principal/{{ .existingSecretKey }}
{{- end }}
{{- end }}
{{- if eq .name "gateway" }}
- name: {{ $p }}HTTP_PORT
  value: "8080"
{{- range $d := (include "township.domainServices" $root | fromJsonArray) }}
- name: {{ $p }}{{ upper $d }}_ADDR
  value: {{ printf "%s:50051" (include "township.componentName" (dict "root" $root "component" $d)) | quote }}
{{- end }}
{{- with .c.jwt }}
{{- if .jwksUrl }}
- name: {{ $p }}JWT_JWKS_URL
  value: {{ .jwksUrl | quote }}
{{- else }}
- name: {{ $p }}JWT_PUBLIC_KEY_FILE
  value: /etc/township-jwt/{{ .existingSecretKey }}
{{- end }}
- name: {{ $p }}JWT_ISSUER
  value: {{ .issuer | quote }}
- name: {{ $p }}JWT_AUDIENCE
  value: {{ .audience | quote }}
{{- end }}
- name: {{ $p }}DEV_MODE
  value: {{ .c.devMode | quote }}
- name: {{ $p }}RPC_TIMEOUT_SECONDS
  value: {{ .c.rpcTimeoutSeconds | quote }}
{{- if .c.rateLimitSharing }}
{{ include "township.natsUrlEnv" (dict "root" $root "prefix" $p) }}
{{- end }}
{{- else }}
- name: {{ $p }}GRPC_PORT
  value: "50051"
- name: {{ $p }}METRICS_PORT
  value: "9464"
- name: {{ $p }}STREAM_REPLICAS
  value: {{ $root.Values.nats.streamReplicas | quote }}
- name: {{ $p }}DB_POOL_SIZE
  value: {{ $root.Values.database.poolSize | quote }}
{{- with $root.Values.retention }}
{{- if le (float64 .inboxHours) (addf (float64 .streamMaxAgeHours) (float64 .outboxHours)) }}
{{- fail "retention.inboxHours must exceed retention.streamMaxAgeHours + retention.outboxHours: an event still in a stream, or replayed from an outbox, would be applied twice" }}
{{- end }}
- name: {{ $p }}STREAM_MAX_AGE_HOURS
  value: {{ .streamMaxAgeHours | quote }}
- name: {{ $p }}OUTBOX_RETENTION_HOURS
  value: {{ .outboxHours | quote }}
- name: {{ $p }}INBOX_RETENTION_HOURS
  value: {{ .inboxHours | quote }}
- name: {{ $p }}IDEMPOTENCY_RETENTION_HOURS
  value: {{ .idempotencyKeyHours | quote }}
{{- end }}
- name: {{ $p }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.database.existingSecret }}
      key: {{ .c.databaseSecretKey }}
{{ include "township.natsUrlEnv" (dict "root" $root "prefix" $p) }}
{{- end }}
{{- with .c.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes every pod has: a writable /tmp and the townships document.
(dict "root" $ "configMap" name) or the root context (the release's townships ConfigMap). */}}
{{- define "township.volumes" -}}
{{- $root := .root | default . -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: townships
  configMap:
    name: {{ .configMap | default (include "township.townshipsConfigMap" $root) }}
    items:
      - key: townships.json
        path: townships.json
{{- with $root.Values.principalSigning }}
{{- if .existingSecret }}
- name: principal-key
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .existingSecretKey }}
        path: {{ .existingSecretKey }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "township.volumeMounts" -}}
{{- $root := .root | default . -}}
- name: tmp
  mountPath: /tmp
# The whole folder (not a subPath): kubelet refreshes it in place when the ConfigMap changes.
- name: townships
  mountPath: /etc/township
  readOnly: true
{{- if $root.Values.principalSigning.existingSecret }}
- name: principal-key
  mountPath: /etc/township-principal
  readOnly: true
{{- end }}
{{- end -}}

{{- define "township.slugs" -}}
{{- $out := list -}}
{{- range .Values.townships -}}
{{- $out = append $out .slug -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* ------------------------------------------------------------------ network policy parts */}}

{{/* An egress rule to {port, peers}; nothing when peers is empty (never "allow all"). */}}
{{- define "township.egress.peers" -}}
{{- if .peers -}}
- to:
    {{- toYaml .peers | nindent 4 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- end -}}
{{- end -}}

{{- define "township.egress.dns" -}}
{{- with .Values.networkPolicy.dns -}}
{{- if .peers -}}
- to:
    {{- toYaml .peers | nindent 4 }}
  ports:
    - port: {{ .port }}
      protocol: UDP
    - port: {{ .port }}
      protocol: TCP
{{- end -}}
{{- end -}}
{{- end -}}


{{/* The NATS URL of a component ((dict "root" $ "prefix" "TOWNSHIP_<C>_")). */}}
{{- define "township.natsUrlEnv" -}}
{{- $root := .root -}}
{{- if $root.Values.nats.existingSecret -}}
- name: {{ .prefix }}NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.nats.existingSecret }}
      key: {{ $root.Values.nats.existingSecretKey }}
{{- else -}}
- name: {{ .prefix }}NATS_URL
  value: {{ $root.Values.nats.url | quote }}
{{- end -}}
{{- end -}}
