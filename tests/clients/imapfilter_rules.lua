-- imapfilter rule set for tests/clients/imapfilter_move.py: plaintext IMAP on
-- loopback (no STARTTLS, no certificate store), the port from the
-- environment. Searches by sender, subject and flags and moves the matches.

options.timeout = 30
options.starttls = false
options.certificates = false
options.info = true
options.subscribe = false

local account = IMAP {
    server = '127.0.0.1',
    port = tonumber(os.getenv('IMAPFILTER_TEST_PORT')),
    username = os.getenv('IMAPFILTER_TEST_USER'),
    password = os.getenv('IMAPFILTER_TEST_PASS'),
}

local inbox = account.INBOX

-- Rule 1: invoices from alice (SEARCH FROM "alice", SEARCH SUBJECT "invoice").
local invoices = inbox:contain_from('alice') * inbox:contain_subject('invoice')
invoices:move_messages(account['Invoices'])

-- Rule 2: flagged and still unread (SEARCH FLAGGED, SEARCH UNSEEN).
local urgent = inbox:is_flagged() * inbox:is_unseen()
urgent:move_messages(account['Urgent'])

-- Rule 3: anything from the newsletter sender that was already read, or
-- whose subject says "unsubscribe" (an OR of two searches).
local old_news = (inbox:contain_from('news@lists.example') * inbox:is_seen()) +
                 inbox:contain_subject('unsubscribe')
old_news:move_messages(account['Old-News'])
