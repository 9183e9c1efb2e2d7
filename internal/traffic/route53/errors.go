package route53

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"ferry.dev/ferry/internal/awserr"
	"ferry.dev/ferry/internal/redact"
)

// explain turns an SDK error into a short one: the service's code and message, or the
// transport's error, without the SDK's operation and request ID preamble, and with a
// configured endpoint's credentials redacted from the URL the transport names.
func (r *Router) explain(err error) error {
	err = redact.Error(err)
	var noZone *types.NoSuchHostedZone
	var batch *types.InvalidChangeBatch
	switch {
	case errors.As(err, &noZone):
		return fmt.Errorf("%w: %s", ErrHostedZoneNotFound, r.cfg.HostedZoneID)
	case errors.As(err, &batch):
		return fmt.Errorf("change batch refused: %s", strings.Join(batch.Messages, "; "))
	}
	return awserr.Short(err)
}
