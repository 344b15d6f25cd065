package jetstream

import "context"

// StreamLeader returns the name of the server leading the event stream,
// for tests that shut that server down.
func StreamLeader(ctx context.Context, b *Backend) (string, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.Cluster == nil {
		return "", nil
	}
	return info.Cluster.Leader, nil
}
