package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"abusedesk/internal/disclosure"
	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
)

// RelayDue relays the mediated messages whose review window has passed and
// that no analyst held: each is composed for its recipient as that side
// sees the case (the sender's identity only with the sender's consent),
// and marked relayed in the transaction that queues its mails.
func (n *Notifier) RelayDue(ctx context.Context) (int, error) {
	total := 0
	for {
		ids, err := n.st.DueMessages(ctx, n.Now(), 100)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		for _, id := range ids {
			k, err := n.relay(ctx, id)
			if err != nil {
				return total, fmt.Errorf("relay message %d: %w", id, err)
			}
			total += k
		}
		if len(ids) < 100 {
			return total, nil
		}
	}
}

func (n *Notifier) relay(ctx context.Context, id int64) (int, error) {
	m, err := n.st.MessageByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if m.State != store.MessagePending {
		return 0, nil
	}
	var mails []pending
	key := fmt.Sprintf("message:%d", m.ID)
	// The recipient sees the message once relayed, which happens in the
	// transaction that queues the mail: compose from that view.
	prep := func(c *disclosure.Case) {
		for i := range c.Messages {
			if c.Messages[i].ID == m.ID {
				c.Messages[i].State = store.MessageRelayed
			}
		}
	}
	pick := func(v *disclosure.Case, d *outbox.Data) {
		for _, vm := range v.Messages {
			if vm.ID == m.ID {
				d.Message, d.FromIdentity = vm.Body, vm.FromIdentity
			}
		}
	}
	switch m.Recipient {
	case store.PartyCustomer:
		mails, err = n.toCustomer(ctx, m.CaseID, "customer_message", key, prep, func(d *outbox.Data, v *disclosure.Case) { pick(v, d) })
	case store.PartyReporter:
		mails, err = n.toReporters(ctx, m.CaseID, "reporter_message", key, m.ReportID, prep, func(d *outbox.Data, v *disclosure.Case, _ disclosure.Report) bool {
			pick(v, d)
			return true
		})
	}
	if err != nil {
		return 0, err
	}
	// A relayed message names its sender only with the sender's consent:
	// that is a disclosure, audited.
	for i := range mails {
		switch {
		case mails[i].data.FromIdentity == "":
		case m.Sender == store.PartyReporter:
			mails[i].disclosed = []disclosure.Disclosure{{Field: disclosure.FieldReporterIdentity, ReportID: m.ReportID}}
		case m.Sender == store.PartyCustomer:
			mails[i].disclosed = []disclosure.Disclosure{{Field: disclosure.FieldCustomerIdentity}}
		}
	}
	k, err := n.queueMails(ctx, mails, func(ctx context.Context, t *sql.Tx) error {
		return n.st.MarkMessageRelayedTx(ctx, t, m.ID, n.Now())
	})
	if errors.Is(err, store.ErrMessageState) {
		return 0, nil // held while its mails were composed: none is sent
	}
	return k, err
}
