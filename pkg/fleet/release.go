package fleet

import "context"

// Taken says how many times the job was taken, this claim included: more than one means an
// earlier worker was lost (or handed the job back) and this claim took it over.
func (c *Claim) Taken() int { return c.st.Claims }

// Release hands the job back to the queue at once, unfinished (a worker that stops): its
// message is redelivered now rather than AckWait after the last Progress, and the worker that
// takes it next supersedes this claim. The claim holds nothing afterwards.
func (c *Claim) Release(ctx context.Context) error {
	if err := c.msg.Nak(); err != nil {
		return wrapNATS("hand back job "+string(c.Job.ID), err)
	}
	return nil
}

// Waiting is how many jobs' messages wait on the stream for a worker: those no worker has taken
// yet (the consumer's pending count; messages handed back or past AckWait count once delivered
// again).
func (q *Queue) Waiting(ctx context.Context) (uint64, error) {
	info, err := q.consumer.Info(ctx)
	if err != nil {
		return 0, wrapNATS("read consumer "+Consumer, err)
	}
	return info.NumPending, nil
}
