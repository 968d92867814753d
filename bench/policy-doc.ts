/**
 * A 20-statement bucket policy with the condition families a real one uses (IP, date,
 * string-like, object tag, numeric), shaped so that none of its denies match the
 * benchmark's requests: every statement is evaluated, the request still succeeds.
 */
export function benchPolicy(bucket: string): string {
  const obj = `arn:aws:s3:::${bucket}/*`;
  const b = `arn:aws:s3:::${bucket}`;
  const st: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    st.push({ Sid: `DenyOutsideLan${i}`, Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${obj.slice(0, -1)}restricted-${i}/*`, Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '10.0.0.0/8', '::1/128'] } } });
    st.push({ Sid: `DenyAfter${i}`, Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: obj, Condition: { DateGreaterThan: { 'aws:CurrentTime': `209${i}-01-01T00:00:00Z` } } });
    st.push({ Sid: `DenyAgents${i}`, Effect: 'Deny', Principal: '*', Action: ['s3:GetObject', 's3:PutObject'], Resource: obj, Condition: { StringLike: { 'aws:UserAgent': [`*evil-bot-${i}*`, `scanner/${i}.*`] } } });
    st.push({ Sid: `AllowTagged${i}`, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj, Condition: { StringEquals: { 's3:ExistingObjectTag/team': `team-${i}`, 'aws:PrincipalAccount': `10000000000${i}` } } });
    st.push({ Sid: `AllowList${i}`, Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: b, Condition: { NumericLessThanEquals: { 's3:max-keys': String(100 * (i + 1)) }, StringEquals: { 'aws:PrincipalAccount': `20000000000${i}` } } });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: st });
}
