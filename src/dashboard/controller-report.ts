/**
 * @module dashboard/controller-report
 * What the dashboard shows about the config flow when the gateway is fed from Kubernetes objects
 * in the same process (`turnpike run`): the translation failures (KIC's
 * `KongConfigurationTranslationFailed` Events), manifest files that could not be read, and whether
 * the gateway took the translated config. The in-cluster controller runs in another process and
 * reports through Kubernetes Events instead.
 */

export interface ControllerReport {
  /** When the translation ran, ms since the epoch. */
  at: number;
  source: string;
  /** `applied`, `unchanged`, or `refused` (the previous config keeps serving). */
  outcome: string;
  /** Why the config was refused, when it was. */
  message?: string;
  events: { type: 'Warning'; reason: string; kind: string; namespace: string | null; name: string; message: string }[];
  problems: string[];
}

interface TranslationOutcome {
  problems: readonly string[];
  failures: readonly { object: { kind: string; namespace?: string; name: string }; reason: string; message: string }[];
}

export function controllerReport(source: string, result: TranslationOutcome, outcome: string, message?: string): ControllerReport {
  return {
    at: Date.now(), source, outcome, message, problems: [...result.problems],
    events: result.failures.map((f) => ({
      type: 'Warning', reason: f.reason, kind: f.object.kind, namespace: f.object.namespace ?? null, name: f.object.name, message: f.message,
    })),
  };
}
