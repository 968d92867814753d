/**
 * Reads the members of a KMS JSON request. A member of the wrong JSON type is a
 * SerializationException (the protocol could not deserialise it); a value that breaks the
 * KMS model's constraints is a ValidationException in Smithy's "1 validation error
 * detected: …" wording. Members the model does not know are ignored, as AWS does.
 */
import { HIDDEN, KmsError, constraintError } from './errors.js';
import type { KmsTag } from './model.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const serialization = (member: string, expected: string): KmsError =>
  new KmsError('SerializationException', `Member ${member} must be ${expected}.`);

interface Length {
  required?: boolean;
  min?: number;
  max?: number;
}

export class Input {
  private readonly obj: Record<string, unknown>;

  constructor(raw: unknown) {
    if (raw === undefined || raw === null) {
      this.obj = {};
    } else if (typeof raw === 'object' && !Array.isArray(raw)) {
      this.obj = raw as Record<string, unknown>;
    } else {
      throw new KmsError('SerializationException', 'The request body must be a JSON object.');
    }
  }

  has(member: string): boolean {
    return this.obj[member] !== undefined && this.obj[member] !== null;
  }

  private raw(member: string, required: boolean | undefined): unknown {
    const v = this.obj[member];
    if (v === undefined || v === null) {
      if (required) throw constraintError(member, null, 'Member must not be null');
      return undefined;
    }
    return v;
  }

  string(member: string, rule: Length & { required: true; pattern?: RegExp }): string;
  string(member: string, rule?: Length & { pattern?: RegExp }): string | undefined;
  string(member: string, rule: Length & { pattern?: RegExp } = {}): string | undefined {
    const v = this.raw(member, rule.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw serialization(member, 'a string');
    checkLength(member, v, [...v].length, rule);
    if (rule.pattern && !rule.pattern.test(v)) throw constraintError(member, v, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
    return v;
  }

  /** An enum member: a value outside `values` is a ValidationException listing them. */
  enumValue<T extends string>(member: string, values: readonly T[]): T | undefined {
    const v = this.string(member);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) throw constraintError(member, v, `Member must satisfy enum value set: [${values.join(', ')}]`);
    return v as T;
  }

  int(member: string, rule: { min?: number; max?: number; required?: boolean } = {}): number | undefined {
    const v = this.raw(member, rule.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization(member, 'an integer');
    if (rule.min !== undefined && v < rule.min) throw constraintError(member, v, `Member must have value greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v > rule.max) throw constraintError(member, v, `Member must have value less than or equal to ${rule.max}`);
    return v;
  }

  bool(member: string): boolean | undefined {
    const v = this.raw(member, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw serialization(member, 'a boolean');
    return v;
  }

  /** A blob member (base64 in JSON); its value never appears in an error. */
  blob(member: string, rule: Length & { required: true }): Buffer;
  blob(member: string, rule?: Length): Buffer | undefined;
  blob(member: string, rule: Length = {}): Buffer | undefined {
    const v = this.raw(member, rule.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !BASE64.test(v)) throw serialization(member, 'base64-encoded binary data');
    const b = Buffer.from(v, 'base64');
    checkLength(member, HIDDEN, b.length, rule);
    return b;
  }

  /** A structure member, read through its own Input. */
  struct(member: string): Input | undefined {
    const v = this.raw(member, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw serialization(member, 'a structure');
    return new Input(v);
  }

  /** An encryption context: a JSON object of string values. */
  context(member: string): Record<string, string> | undefined {
    const v = this.raw(member, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw serialization(member, 'a map of strings');
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') throw serialization(member, 'a map of strings');
      out[k] = val;
    }
    return out;
  }

  stringList(member: string, rule: { required?: boolean; each?: Length } = {}): string[] | undefined {
    const v = this.raw(member, rule.required);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw serialization(member, 'a list');
    return v.map((item: unknown, i) => {
      if (typeof item !== 'string') throw serialization(member, 'a list of strings');
      if (rule.each) checkLength(`${member}.${i + 1}.member`, item, [...item].length, rule.each);
      return item;
    });
  }

  /** KMS Tags: [{ TagKey, TagValue }]. */
  tags(member: string, required = false): KmsTag[] | undefined {
    const v = this.raw(member, required);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw serialization(member, 'a list');
    return v.map((item: unknown, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw serialization(member, 'a list of tags');
      const t = new Input(item);
      const at = `${member}.${i + 1}.member`;
      const TagKey = t.string('TagKey', { required: true });
      const TagValue = t.string('TagValue', { required: true });
      checkLength(`${at}.tagKey`, TagKey, [...TagKey].length, { min: 1, max: 128 });
      checkLength(`${at}.tagValue`, TagValue, [...TagValue].length, { min: 0, max: 256 });
      return { TagKey, TagValue };
    });
  }
}

function checkLength(member: string, value: unknown, length: number, rule: Length): void {
  if (rule.min !== undefined && length < rule.min) throw constraintError(member, value, `Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && length > rule.max) throw constraintError(member, value, `Member must have length less than or equal to ${rule.max}`);
}
