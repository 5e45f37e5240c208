// Package cluster reads workloads from a live cluster with client-go and
// turns them into kmend objects: managedFields and the last-applied
// annotation are dropped to bound memory, and owner chains are walked
// (Pod → ReplicaSet → Deployment, Job → CronJob) so a finding lands on the
// object a person wrote, not on what a controller generated from it.
//
// It reads the cluster three ways: once (Snapshot, GitOpsObjects and
// ReportObjects, for kmend scan, locate and import --cluster), or
// continuously (Watch and Watcher: informers for every workload kind,
// trimmed by a transform before they are cached, whose events are merged
// per object in a work queue and reported for the top owner only). Owner
// chains are walked through the informers' caches by the Watcher and with
// API reads by Owners. Config finds the cluster as kubectl does, and from
// the pod's service account when kmend runs inside the cluster.
package cluster
