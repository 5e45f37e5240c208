package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// schemaFor returns the Go type apimachinery's strategic merge needs to
// know list merge keys, for the kinds kmend fixes.
func schemaFor(kind string) (any, error) {
	switch kind {
	case "Pod":
		return &corev1.Pod{}, nil
	case "ReplicationController":
		return &corev1.ReplicationController{}, nil
	case "Deployment":
		return &appsv1.Deployment{}, nil
	case "StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "DaemonSet":
		return &appsv1.DaemonSet{}, nil
	case "ReplicaSet":
		return &appsv1.ReplicaSet{}, nil
	case "Job":
		return &batchv1.Job{}, nil
	case "CronJob":
		return &batchv1.CronJob{}, nil
	}
	return nil, fmt.Errorf("no strategic-merge schema for kind %s", kind)
}

// ApplyStrategicMerge applies a strategic-merge patch (JSON) to an object
// (JSON) of the given kind with apimachinery, as kubectl patch would.
func ApplyStrategicMerge(kind string, doc, patch []byte) ([]byte, error) {
	schema, err := schemaFor(kind)
	if err != nil {
		return nil, err
	}
	return strategicpatch.StrategicMergePatch(doc, patch, schema)
}

// Verify checks that the fix's strategic-merge patch and RFC 6902 ops, both
// applied to before with the reference libraries, give after (JSON
// documents, compared as values).
func (f *Fix) Verify(before, after []byte) error {
	return f.VerifyDocs(NewDoc(before), NewDoc(after))
}

// VerifyDocs is Verify for documents that may be decoded already. When
// before is the document the fix was rendered for, the RFC 6902 ops were
// applied to it then: that result is used (once) instead of applying them
// again.
func (f *Fix) VerifyDocs(before, after *Doc) error {
	kind := f.Result.Finding.Object.Kind
	smp, err := ApplyStrategicMerge(kind, before.JSON, f.StrategicMergeJSON)
	if err != nil {
		return fmt.Errorf("strategic-merge patch does not apply: %w", err)
	}
	if !SameDoc(NewDoc(smp), after) {
		return fmt.Errorf("strategic-merge patch gives another object than the edit")
	}
	jp, on := f.opsGive, f.opsOn
	f.opsOn, f.opsGive = nil, nil
	if jp == nil || !bytes.Equal(on, before.JSON) {
		if jp, err = ApplyJSONPatch(before.JSON, f.JSONPatch); err != nil {
			return fmt.Errorf("RFC 6902 patch does not apply: %w", err)
		}
	}
	if !SameDoc(NewDoc(jp), after) {
		return fmt.Errorf("RFC 6902 patch gives another object than the edit")
	}
	return nil
}

// SameJSON compares two JSON documents as values.
func SameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
