/**
 * The one audit interface. Every security-relevant call (today: KMS operations, direct or
 * on behalf of an S3 request) emits a record here; the audit-trail issue will add S3 data
 * events, delivery and querying on top of the same sink. Records carry who, what, on which
 * resource, the outcome and why — never secrets, key material or policy text.
 */
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditEvent {
  time: string;
  service: string;
  operation: string;
  requestId: string;
  /** The S3 request a KMS call served. */
  viaRequestId?: string;
  callerArn?: string;
  accountId?: string;
  resource?: string;
  outcome: 'allowed' | 'denied' | 'error';
  errorCode?: string;
  reason?: string;
}

export interface AuditSink {
  record(e: AuditEvent): void;
}

/**
 * Appends JSON lines to a file in the data directory. Synchronous on purpose: a record is
 * written before the response that it explains leaves the server.
 */
export class FileAuditSink implements AuditSink {
  private readonly fd: number;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Opened once in append mode: every record is one write(2) at the end of the file.
    this.fd = openSync(path, 'a', 0o600);
  }

  record(e: AuditEvent): void {
    writeSync(this.fd, `${JSON.stringify(e)}\n`);
  }
}
