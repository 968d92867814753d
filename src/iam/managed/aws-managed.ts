/**
 * A few AWS managed policies, built in and read-only: accounts can attach them (or use
 * them as permissions boundaries) by their real ARNs, as scripts written against AWS do.
 * Documents, ids, dates and default version ids are AWS's, from the AWS Managed Policy
 * Reference Guide (which gives times to the minute: seconds are :00 where not known
 * otherwise); only the default version is known, so it is the only version served.
 * They are not stored: no account can change or delete them.
 */

export interface AwsManagedPolicy {
  name: string;
  /** ANPA… as AWS assigns it (the same in every account). */
  id: string;
  arn: string;
  path: string;
  description: string;
  defaultVersionId: string;
  createDate: string;
  /** When the default version was created. */
  updateDate: string;
  document: string;
}

function policy(p: Omit<AwsManagedPolicy, 'arn' | 'path' | 'document'> & { statement: unknown }): AwsManagedPolicy {
  const { statement, ...rest } = p;
  // Indented as GetPolicyVersion returns AWS managed documents (after URL-decoding).
  const document = JSON.stringify({ Version: '2012-10-17', Statement: statement }, null, 4);
  return { ...rest, arn: `arn:aws:iam::aws:policy/${p.name}`, path: '/', document };
}

export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicy[] = [
  policy({
    name: 'AdministratorAccess',
    id: 'ANPAIWMBCKSKIEE64ZLYK',
    description: 'Provides full access to AWS services and resources.',
    defaultVersionId: 'v1',
    createDate: '2015-02-06T18:39:46Z',
    updateDate: '2015-02-06T18:39:46Z',
    statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  }),
  policy({
    name: 'AmazonS3FullAccess',
    id: 'ANPAIFIR6V6BVTRAHWINE',
    description: 'Provides full access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v2',
    createDate: '2015-02-06T18:40:58Z',
    updateDate: '2021-09-27T20:16:37Z',
    statement: [{ Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*' }],
  }),
  policy({
    name: 'AmazonS3ReadOnlyAccess',
    id: 'ANPAIZTJ4DXE7G6AGAE6M',
    description: 'Provides read only access to all buckets via the AWS Management Console.',
    defaultVersionId: 'v3',
    createDate: '2015-02-06T18:40:59Z',
    updateDate: '2023-08-10T21:31:39Z',
    statement: [{
      Effect: 'Allow',
      Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
      Resource: '*',
    }],
  }),
  policy({
    name: 'IAMFullAccess',
    id: 'ANPAI7XKCFMBPM3QQRRVQ',
    description: 'Provides full access to IAM via the AWS Management Console.',
    defaultVersionId: 'v2',
    createDate: '2015-02-06T18:40:00Z',
    updateDate: '2019-06-21T19:40:00Z',
    statement: [{
      Effect: 'Allow',
      Action: [
        'iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization', 'organizations:DescribeOrganizationalUnit',
        'organizations:DescribePolicy', 'organizations:ListChildren', 'organizations:ListParents', 'organizations:ListPoliciesForTarget',
        'organizations:ListRoots', 'organizations:ListPolicies', 'organizations:ListTargetsForPolicy',
      ],
      Resource: '*',
    }],
  }),
  policy({
    name: 'IAMReadOnlyAccess',
    id: 'ANPAJKSO7NDY4T57MWDSQ',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    defaultVersionId: 'v4',
    createDate: '2015-02-06T18:40:00Z',
    updateDate: '2018-01-25T19:11:00Z',
    statement: [{
      Effect: 'Allow',
      Action: [
        'iam:GenerateCredentialReport', 'iam:GenerateServiceLastAccessedDetails', 'iam:Get*', 'iam:List*',
        'iam:SimulateCustomPolicy', 'iam:SimulatePrincipalPolicy',
      ],
      Resource: '*',
    }],
  }),
];

const BY_ARN = new Map(AWS_MANAGED_POLICIES.map((p) => [p.arn, p]));

/** The built-in AWS managed policy with this exact ARN, if any. */
export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  return BY_ARN.get(arn);
}
