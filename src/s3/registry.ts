/**
 * Operation kind → handler. `satisfies` makes it exhaustive: a new kind in
 * operations.ts does not compile until it is listed here. Operations that later issues
 * build answer NotImplemented (after authorization, as S3 would).
 */
import { s3error } from '../errors/s3-errors.js';
import type { OperationKind } from '../operations/operations.js';
import * as acl from './acl.js';
import * as buckets from './buckets.js';
import * as policy from './bucket-policy.js';
import * as pab from './public-access-block.js';
import type { Handler } from './context.js';
import { copyObject } from './copy.js';
import * as cors from './cors.js';
import { deleteObjects } from './delete-objects.js';
import * as listing from './listing.js';
import * as mpu from './multipart.js';
import * as objects from './objects.js';
import * as tagging from './object-tagging.js';
import { postObject } from './post-object.js';

const notYet = (what: string) => async (): Promise<never> => {
  throw s3error('NotImplemented', `${what} is not implemented yet.`);
};

export const HANDLERS: { [K in OperationKind]: Handler<K> } = {
  ListBuckets: buckets.listBuckets,
  GetAccountPublicAccessBlock: pab.getAccountPublicAccessBlock,
  PutAccountPublicAccessBlock: pab.putAccountPublicAccessBlock,
  DeleteAccountPublicAccessBlock: pab.deleteAccountPublicAccessBlock,
  CreateBucket: buckets.createBucket,
  DeleteBucket: buckets.deleteBucket,
  HeadBucket: buckets.headBucket,
  GetBucketLocation: buckets.getBucketLocation,
  ListObjects: listing.listObjects,
  ListObjectsV2: listing.listObjectsV2,
  ListObjectVersions: listing.listObjectVersions,
  ListMultipartUploads: listing.listMultipartUploads,
  DeleteObjects: deleteObjects,
  PostObject: postObject,
  GetBucketVersioning: buckets.getBucketVersioning,
  PutBucketVersioning: buckets.putBucketVersioning,
  GetBucketTagging: buckets.getBucketTagging,
  PutBucketTagging: buckets.putBucketTagging,
  DeleteBucketTagging: buckets.deleteBucketTagging,
  GetBucketCors: cors.getBucketCors,
  PutBucketCors: cors.putBucketCors,
  DeleteBucketCors: cors.deleteBucketCors,
  GetBucketAcl: acl.getBucketAcl,
  PutBucketAcl: acl.putBucketAcl,
  GetBucketPolicy: policy.getBucketPolicy,
  PutBucketPolicy: policy.putBucketPolicy,
  DeleteBucketPolicy: policy.deleteBucketPolicy,
  GetBucketPolicyStatus: policy.getBucketPolicyStatus,
  GetBucketEncryption: buckets.getBucketEncryption,
  PutBucketEncryption: buckets.putBucketEncryption,
  DeleteBucketEncryption: buckets.deleteBucketEncryption,
  GetBucketOwnershipControls: buckets.getBucketOwnershipControls,
  PutBucketOwnershipControls: buckets.putBucketOwnershipControls,
  DeleteBucketOwnershipControls: buckets.deleteBucketOwnershipControls,
  GetPublicAccessBlock: pab.getPublicAccessBlock,
  PutPublicAccessBlock: pab.putPublicAccessBlock,
  DeletePublicAccessBlock: pab.deletePublicAccessBlock,
  GetBucketLifecycleConfiguration: notYet('GetBucketLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: notYet('PutBucketLifecycleConfiguration'),
  DeleteBucketLifecycle: notYet('DeleteBucketLifecycle'),
  GetBucketLogging: notYet('GetBucketLogging'),
  PutBucketLogging: notYet('PutBucketLogging'),
  GetBucketNotificationConfiguration: notYet('GetBucketNotificationConfiguration'),
  PutBucketNotificationConfiguration: notYet('PutBucketNotificationConfiguration'),
  GetBucketWebsite: notYet('GetBucketWebsite'),
  PutBucketWebsite: notYet('PutBucketWebsite'),
  DeleteBucketWebsite: notYet('DeleteBucketWebsite'),
  GetBucketReplication: notYet('GetBucketReplication'),
  PutBucketReplication: notYet('PutBucketReplication'),
  DeleteBucketReplication: notYet('DeleteBucketReplication'),
  GetObjectLockConfiguration: notYet('GetObjectLockConfiguration'),
  PutObjectLockConfiguration: notYet('PutObjectLockConfiguration'),
  GetBucketRequestPayment: notYet('GetBucketRequestPayment'),
  PutBucketRequestPayment: notYet('PutBucketRequestPayment'),
  GetBucketAccelerateConfiguration: notYet('GetBucketAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: notYet('PutBucketAccelerateConfiguration'),
  BucketOptions: cors.bucketOptions,
  ObjectOptions: cors.objectOptions,
  PutObject: objects.putObject,
  GetObject: objects.getObject,
  HeadObject: objects.headObject,
  DeleteObject: objects.deleteObject,
  CopyObject: copyObject,
  GetObjectAttributes: objects.getObjectAttributes,
  GetObjectTagging: tagging.getObjectTagging,
  PutObjectTagging: tagging.putObjectTagging,
  DeleteObjectTagging: tagging.deleteObjectTagging,
  GetObjectAcl: acl.getObjectAcl,
  PutObjectAcl: acl.putObjectAcl,
  GetObjectRetention: notYet('GetObjectRetention'),
  PutObjectRetention: notYet('PutObjectRetention'),
  GetObjectLegalHold: notYet('GetObjectLegalHold'),
  PutObjectLegalHold: notYet('PutObjectLegalHold'),
  RestoreObject: notYet('RestoreObject'),
  SelectObjectContent: notYet('SelectObjectContent'),
  GetObjectTorrent: notYet('GetObjectTorrent'),
  CreateMultipartUpload: mpu.createMultipartUpload,
  UploadPart: mpu.uploadPart,
  UploadPartCopy: mpu.uploadPartCopy,
  CompleteMultipartUpload: mpu.completeMultipartUpload,
  AbortMultipartUpload: mpu.abortMultipartUpload,
  ListParts: mpu.listParts,
};
