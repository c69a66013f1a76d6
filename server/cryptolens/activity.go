package cryptolens

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Messages (message/), events and the web API log (ai/), metered usage (subscription/RecordUsage) and the
// payment forms this server does not offer (paymentform/CreateSession).
func init() {
	for name, m := range map[string]struct {
		perm license.Method
		fn   method
	}{
		"message/getmessages":      {license.MethodGetMessages, (*API).getMessages},
		"message/createmessage":    {license.MethodCreateMessage, (*API).createMessage},
		"message/removemessage":    {license.MethodRemoveMessage, (*API).removeMessage},
		"ai/registerevent":         {license.MethodRegisterEvent, (*API).registerEvent},
		"ai/registerevents":        {license.MethodRegisterEvent, (*API).registerEvents},
		"ai/getevents":             {license.MethodGetEvents, (*API).getEvents},
		"ai/getwebapilog":          {license.MethodGetWebAPILog, (*API).getWebAPILog},
		"subscription/recordusage": {license.MethodRecordUsage, (*API).recordUsage},
		"paymentform/createsession": {"", func(*API, context.Context, *call) (any, error) {
			return nil, errPaymentForms
		}},
	} {
		methods[name] = m
	}
}

// Messages for the errors of these methods; Cryptolens' own are not published.
const (
	msgNoMessage   = "Could not find the message."
	msgLimit2      = "The limit has been reached."
	msgNoPayments  = "Payment forms are not supported by this server."
	msgOrderBy     = "OrderBy must be Id or Id descending."
	msgEventsJSON  = "Events must be a JSON array of events."
	msgEventsCount = "Between 1 and 100 events can be registered in one call."
)

var errPaymentForms = &messageError{msg: msgNoPayments, err: errors.New("paymentform/CreateSession: payments are out of scope")}

// activityError gives the errors of these methods their messages; others pass through to message.
func activityError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, license.ErrMessageNotFound):
		return &messageError{msg: msgNoMessage, err: err}
	case errors.Is(err, license.ErrUsageLimit):
		return &messageError{msg: msgLimit2, err: err}
	}
	return err
}

// unixTime reads a Unix time in seconds; absent or 0 is the zero time.
func (c *call) unixTime(name string) time.Time {
	n := c.int64(name, 0)
	if n < 0 || n > license.MaxExpiry.Unix() {
		c.fail(name, strconv.FormatInt(n, 10))
		return time.Time{}
	}
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

type messageObject struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	Created int64  `json:"created"`
	Channel string `json:"channel"`
}

type messagesResult struct {
	Result   int             `json:"result"`
	Message  string          `json:"message"`
	Messages []messageObject `json:"messages"`
}

func (api *API) getMessages(ctx context.Context, c *call) (any, error) {
	channel, after := c.str("Channel"), c.unixTime("Time")
	if c.err != nil {
		return nil, c.err
	}
	ms, err := api.License.GetMessages(ctx, c.access, channel, after)
	if err != nil {
		return nil, err
	}
	out := messagesResult{Messages: make([]messageObject, 0, len(ms))}
	for _, m := range ms {
		out.Messages = append(out.Messages, messageObject{ID: m.ID, Content: m.Content, Created: m.Created.Unix(), Channel: m.Channel})
	}
	return out, nil
}

type createMessageResult struct {
	Result    int    `json:"result"`
	Message   string `json:"message"`
	MessageID int64  `json:"messageId"`
}

func (api *API) createMessage(ctx context.Context, c *call) (any, error) {
	spec := license.MessageSpec{Content: c.str("Content"), Channel: c.str("Channel"), Time: c.unixTime("Time")}
	if c.err != nil {
		return nil, c.err
	}
	m, err := api.License.CreateMessage(ctx, c.access, spec)
	if err != nil {
		return nil, activityError(err)
	}
	return createMessageResult{MessageID: m.ID}, nil
}

func (api *API) removeMessage(ctx context.Context, c *call) (any, error) {
	id := c.int64("Id", 0)
	if id <= 0 {
		c.fail("Id", c.str("Id"))
	}
	if c.err != nil {
		return nil, c.err
	}
	return result{}, activityError(api.License.RemoveMessage(ctx, c.access, id))
}

// eventTarget reads ProductId (Cryptolens' default -1: none), Key and MachineCode.
func (c *call) eventTarget() license.EventTarget {
	pid := c.int64("ProductId", -1)
	if pid < -1 {
		c.fail("ProductId", strconv.FormatInt(pid, 10))
	}
	return license.EventTarget{ProductID: max(pid, 0), Key: c.str("Key"), MachineCode: c.str("MachineCode")}
}

func (api *API) registerEvent(ctx context.Context, c *call) (any, error) {
	target := c.eventTarget()
	e := license.EventSpec{FeatureName: c.str("FeatureName"), EventName: c.str("EventName"), Value: c.int64("Value", 0),
		Currency: c.str("Currency"), Metadata: c.str("Metadata")}
	if c.err != nil {
		return nil, c.err
	}
	return result{}, api.License.RegisterEvents(ctx, c.access, target, []license.EventSpec{e})
}

// wireEvent is one event of RegisterEvents' Events, a JSON array as the .NET SDK serializes its Event model.
type wireEvent struct {
	FeatureName string `json:"FeatureName"`
	EventName   string `json:"EventName"`
	Value       int64  `json:"Value"`
	Currency    string `json:"Currency"`
	Time        int64  `json:"Time"`
	Metadata    string `json:"Metadata"`
}

func (api *API) registerEvents(ctx context.Context, c *call) (any, error) {
	target := c.eventTarget()
	if c.err != nil {
		return nil, c.err
	}
	var events []wireEvent
	if err := json.Unmarshal([]byte(c.str("Events")), &events); err != nil {
		return nil, &messageError{msg: msgEventsJSON, err: license.ErrInvalidInput}
	}
	if len(events) == 0 || len(events) > license.MaxEventsPerCall {
		return nil, &messageError{msg: msgEventsCount, err: license.ErrInvalidInput}
	}
	specs := make([]license.EventSpec, 0, len(events))
	for _, e := range events {
		if e.Time < 0 || e.Time > license.MaxExpiry.Unix() {
			return nil, &messageError{msg: MsgBadInput, err: license.ErrInvalidInput}
		}
		s := license.EventSpec{FeatureName: e.FeatureName, EventName: e.EventName, Value: e.Value, Currency: e.Currency, Metadata: e.Metadata}
		if e.Time > 0 {
			s.Time = time.Unix(e.Time, 0).UTC()
		}
		specs = append(specs, s)
	}
	return result{}, api.License.RegisterEvents(ctx, c.access, target, specs)
}

// listQuery reads Limit, StartingAfter, ProductId and Key.
func (c *call) listQuery() license.ListQuery {
	q := license.ListQuery{Limit: c.int("Limit", 0), StartingAfter: c.int64("StartingAfter", 0), ProductID: c.int64("ProductId", 0),
		Key: c.str("Key")}
	if q.ProductID < 0 {
		c.fail("ProductId", c.str("ProductId"))
	}
	return q
}

type eventObject struct {
	ID          int64  `json:"id"`
	ProductID   int64  `json:"productId"`
	Key         string `json:"key"`
	MachineCode string `json:"machineCode"`
	FeatureName string `json:"featureName"`
	EventName   string `json:"eventName"`
	Value       int64  `json:"value"`
	Currency    string `json:"currency"`
	Time        int64  `json:"time"`
	Metadata    string `json:"metadata"`
}

type eventsResult struct {
	Result  int           `json:"result"`
	Message string        `json:"message"`
	Events  []eventObject `json:"events"`
}

func (api *API) getEvents(ctx context.Context, c *call) (any, error) {
	q := c.listQuery()
	if c.err != nil {
		return nil, c.err
	}
	evs, err := api.License.GetEvents(ctx, c.access, q)
	if err != nil {
		return nil, err
	}
	out := eventsResult{Events: make([]eventObject, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, eventObject{ID: e.ID, ProductID: e.ProductID, Key: e.Key, MachineCode: e.MachineCode,
			FeatureName: e.FeatureName, EventName: e.EventName, Value: e.Value, Currency: e.Currency, Time: e.At.Unix(), Metadata: e.Metadata})
	}
	return out, nil
}

// webAPILog is Cryptolens' WebAPILog model, with the method and result this server records besides. Key is the
// key's first block only; data objects and floating expiry are not recorded and answered as 0.
type webAPILog struct {
	ID              int64  `json:"id"`
	ProductID       int64  `json:"productId"`
	Key             string `json:"key"`
	IP              string `json:"ip"`
	Time            int64  `json:"time"`
	State           int    `json:"state"`
	MachineCode     string `json:"machineCode"`
	FriendlyName    string `json:"friendlyName"`
	FloatingExpires int64  `json:"floatingExpires"`
	DOIntValue      int64  `json:"doIntValue"`
	DOID            int64  `json:"doId"`
	Method          string `json:"method"`
	CallResult      string `json:"callResult"`
}

type webAPILogResult struct {
	Result  int         `json:"result"`
	Message string      `json:"message"`
	Logs    []webAPILog `json:"logs"`
}

func (api *API) getWebAPILog(ctx context.Context, c *call) (any, error) {
	q := license.LogQuery{ListQuery: c.listQuery(), MachineCode: c.str("MachineCode"), FriendlyName: c.str("FriendlyName"),
		EndingBefore: c.unixTime("EndingBefore")}
	switch strings.ToLower(strings.Join(strings.Fields(c.str("OrderBy")), " ")) {
	case "", "id", "id ascending", "id asc":
	case "id descending", "id desc":
		q.Descending = true
	default:
		return nil, &messageError{msg: msgOrderBy, err: license.ErrInvalidInput}
	}
	if c.err != nil {
		return nil, c.err
	}
	entries, err := api.License.GetWebAPILog(ctx, c.access, q)
	if err != nil {
		return nil, err
	}
	out := webAPILogResult{Logs: make([]webAPILog, 0, len(entries))}
	for _, e := range entries {
		out.Logs = append(out.Logs, logObject(e))
	}
	return out, nil
}

func logObject(e storage.WebAPILogEntry) webAPILog {
	return webAPILog{ID: e.ID, ProductID: e.ProductID, Key: e.Key, IP: e.IP, Time: unix(e.At), State: e.State,
		MachineCode: e.MachineCode, FriendlyName: e.FriendlyName, Method: e.Method, CallResult: e.Result}
}

type recordUsageResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Total   int64  `json:"total"`
}

func (api *API) recordUsage(ctx context.Context, c *call) (any, error) {
	pid, key, amount := c.productID(), c.required("Key"), c.int64("Amount", 0)
	if c.err != nil {
		return nil, c.err
	}
	total, err := api.License.RecordUsage(ctx, c.access, pid, key, amount)
	if err != nil {
		return nil, activityError(err)
	}
	return recordUsageResult{Total: total}, nil
}
