/**
 * Which principals a resource or trust policy may name: AWS rejects a policy naming a
 * principal that does not exist (S3 "Invalid principal in policy", IAM
 * MalformedPolicyDocument). Policy validation is synchronous and pure, so the known
 * accounts, users and roles are loaded up front.
 */
import type { MetadataStore } from '../storage/ports.js';
import type { IamRole, IamUser } from './model.js';

/** A synchronous existence test over this server's accounts, users and roles. */
export async function loadPrincipalIndex(meta: MetadataStore): Promise<(principal: string) => boolean> {
  const accounts = new Set((await meta.listAccounts()).map((a) => a.id));
  const arns = new Set<string>();
  const roles = new Set<string>();
  for (const id of accounts) {
    for (const doc of await meta.listIamEntities(id, 'user')) arns.add((JSON.parse(doc) as IamUser).arn);
    for (const doc of await meta.listIamEntities(id, 'role')) {
      const r = JSON.parse(doc) as IamRole;
      arns.add(r.arn);
      roles.add(`${id}/${r.name}`);
    }
  }
  return (p: string): boolean => {
    const account = /^(?:arn:aws:iam::)?(\d{12})(?::root)?$/.exec(p);
    if (account) return accounts.has(account[1]!);
    if (arns.has(p)) return true;
    // A role session: arn:aws:sts::<account>:assumed-role/<role>/<session>
    const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(p);
    if (session) return roles.has(`${session[1]}/${session[2]}`);
    // Anything else in the aws partition's IAM/STS namespace is unknown; other forms
    // (service principals, "*") are the validator's business.
    return !/^arn:aws:(?:iam|sts)::/.test(p);
  };
}
