package notify

import (
	"context"
	"fmt"
)

// Remind queues a reminder for each notified case whose customer deadline
// is within RemindAhead, once per deadline (an extension makes a new one),
// and only when the notice is not itself that recent: a case with a 24-hour
// deadline gets its reminder half-way, not with the notice.
func (n *Notifier) Remind(ctx context.Context) (int, error) {
	now := n.Now()
	ids, err := n.st.ReminderCandidates(ctx, now, now.Add(n.cfg.RemindAhead), 500)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		c, err := n.st.CaseByID(ctx, id)
		if err != nil {
			return total, err
		}
		notified, err := n.st.LastNotifyAt(ctx, id)
		if err != nil {
			return total, err
		}
		if !notified.IsZero() && now.Sub(notified) < c.Deadline.Sub(now) {
			continue // less than half the time used: too early
		}
		mails, err := n.toCustomer(ctx, id, "customer_reminder", fmt.Sprintf("reminder:%d:%d", id, c.Deadline.UnixMilli()), nil, nil)
		if err != nil {
			return total, err
		}
		k, err := n.queueMails(ctx, mails, nil)
		if err != nil {
			return total, err
		}
		total += k
	}
	return total, nil
}
