package routing_test

import (
	"strings"
	"testing"

	"abusedesk/internal/attribution"
	"abusedesk/internal/intake"
	"abusedesk/internal/routing"
)

// TestVocabulary keeps the keys' closed lists in step with the packages that
// produce the values: routing copies them rather than importing intake.
func TestVocabulary(t *testing.T) {
	for key, vals := range map[string][]string{
		"channel": {intake.ChannelAPI, intake.ChannelForm, intake.ChannelXARF, intake.ChannelCSV, intake.ChannelMail, intake.ChannelLegal},
		"verdict": {attribution.NotOurs, attribution.Unassigned, attribution.Assigned},
	} {
		text := "route x " + key + "=" + strings.Join(vals, ",") + "\n"
		if _, err := routing.Parse("t.rules", strings.NewReader(text)); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}
