// Package cluster reads workloads from a live cluster with client-go and
// turns them into kmend objects: managedFields and the last-applied
// annotation are dropped to bound memory, and owner chains are walked
// (Pod → ReplicaSet → Deployment, Job → CronJob) so a finding lands on the
// object a person wrote, not on what a controller generated from it.
package cluster
