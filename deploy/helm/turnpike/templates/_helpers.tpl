{{/* Names. */}}
{{- define "turnpike.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "turnpike.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "turnpike.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "turnpike.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "turnpike.serviceAccountName" -}}
{{- if .Values.ingressController.serviceAccount.create -}}
{{- default (include "turnpike.fullname" .) .Values.ingressController.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.ingressController.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "turnpike.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}

{{/* Labels. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "turnpike.selectorLabels" -}}
app.kubernetes.io/name: {{ include "turnpike.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "turnpike.labels" -}}
{{ include "turnpike.selectorLabels" . }}
app.kubernetes.io/part-of: turnpike
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
The gateway container. Call with (dict "root" $ "exposeAdmin" true|false): the Admin API binds the
pod IP (and takes the token) when exposed, else 127.0.0.1.
*/}}
{{- define "turnpike.gatewayContainer" -}}
{{- $v := .root.Values -}}
{{- $adminHost := ternary "0.0.0.0" "127.0.0.1" (eq .exposeAdmin true) -}}
- name: gateway
  image: {{ include "turnpike.image" .root }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args:
    - gateway
    - --proxy-listen=0.0.0.0:{{ $v.proxy.http.containerPort }}
    - --admin-listen={{ $adminHost }}:{{ $v.admin.containerPort }}
    - --status-listen=0.0.0.0:{{ $v.status.containerPort }}
    - --workers={{ $v.gateway.workers }}
    - --log-level={{ $v.gateway.logLevel }}
    {{- range $v.gateway.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    {{- if .exposeAdmin }}
    - name: TURNPIKE_ADMIN_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ $v.admin.tokenSecret.name }}
          key: {{ $v.admin.tokenSecret.key }}
          optional: true
    {{- end }}
    {{- range $name, $value := $v.gateway.env }}
    - name: {{ $name }}
      value: {{ $value | quote }}
    {{- end }}
  ports:
    - name: proxy
      containerPort: {{ $v.proxy.http.containerPort }}
      protocol: TCP
    {{- if .exposeAdmin }}
    - name: admin
      containerPort: {{ $v.admin.containerPort }}
      protocol: TCP
    {{- end }}
    - name: status
      containerPort: {{ $v.status.containerPort }}
      protocol: TCP
  readinessProbe:
    {{- toYaml $v.readinessProbe | nindent 4 }}
  livenessProbe:
    {{- toYaml $v.livenessProbe | nindent 4 }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: gateway-tmp
      mountPath: /tmp
{{- end -}}

{{/*
The controller container. Call with (dict "root" $ "discovery" true|false).
*/}}
{{- define "turnpike.controllerContainer" -}}
{{- $v := .root.Values -}}
{{- $ic := $v.ingressController -}}
- name: controller
  image: {{ include "turnpike.image" .root }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args:
    - controller
    {{- if .discovery }}
    - --kong-admin-svc=$(POD_NAMESPACE)/{{ include "turnpike.fullname" .root }}-admin
    - --kong-admin-svc-port-names=admin
    - --election-id={{ $ic.leaderElection.electionId }}
    {{- else }}
    - --gateway-admin-url=http://127.0.0.1:{{ $v.admin.containerPort }}
    - --no-leader-election
    {{- end }}
    - --ingress-class={{ $ic.ingressClass }}
    - --gateway-api-controller-name={{ $ic.gatewayApiControllerName }}
    {{- if $ic.watchNamespace }}
    - --watch-namespace={{ $ic.watchNamespace }}
    {{- end }}
    {{- if and $ic.publishService $v.proxy.enabled }}
    - --publish-service=$(POD_NAMESPACE)/{{ include "turnpike.fullname" .root }}-proxy
    {{- end }}
    - --health-probe-listen=0.0.0.0:{{ $ic.healthProbePort }}
    - --metrics-listen=0.0.0.0:{{ $ic.metricsPort }}
    - --log-level={{ $ic.logLevel }}
    {{- range $ic.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    {{- if .discovery }}
    - name: TURNPIKE_ADMIN_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ $v.admin.tokenSecret.name }}
          key: {{ $v.admin.tokenSecret.key }}
          optional: true
    {{- end }}
    {{- range $name, $value := $ic.env }}
    - name: {{ $name }}
      value: {{ $value | quote }}
    {{- end }}
  ports:
    - name: health
      containerPort: {{ $ic.healthProbePort }}
      protocol: TCP
    - name: ctrl-metrics
      containerPort: {{ $ic.metricsPort }}
      protocol: TCP
  readinessProbe:
    {{- toYaml $ic.readinessProbe | nindent 4 }}
  livenessProbe:
    {{- toYaml $ic.livenessProbe | nindent 4 }}
  resources:
    {{- toYaml $ic.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: controller-tmp
      mountPath: /tmp
{{- end -}}

{{/* Pod-level settings shared by every Deployment. Call with the root context. */}}
{{- define "turnpike.podCommon" -}}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
