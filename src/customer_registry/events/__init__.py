"""Change events: the per-client feed, webhook endpoints and their delivery (issue 15).

The events themselves are appended by the customer writes (``customers.outbox``); this
package gives them their feed order, serves them and delivers them.
"""
