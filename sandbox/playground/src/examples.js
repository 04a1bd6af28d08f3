// Example operations pre-loaded as GraphiQL tabs (GraphiQL's `defaultTabs`).
//
// GraphiQL titles each tab with the operation name, so every example has a
// descriptive operation name; the first comment line is the human title.
// Field names follow the gateway schema; when the schema changes, edit here.
//
// Note: GraphiQL keeps the user's tabs in localStorage, so an edit here shows
// up for a returning browser only after "Clear storage" in GraphiQL's settings
// (or for a new browser profile).

const json = (value) => JSON.stringify(value, null, 2);

export const EXAMPLE_TABS = [
  {
    query: `# Non-compliant locations
#
# Locations whose compliance status is NON_COMPLIANT,
# with the reason. Run it with the play button (or
# Ctrl/Cmd-Enter). The Docs panel (book icon, left)
# lists every type and field.
query NonCompliantLocations {
  locations(
    first: 20
    filter: { complianceStatuses: [NON_COMPLIANT] }
  ) {
    totalCount
    nodes {
      id
      storeNumber
      name
      complianceStatus
      compliance {
        reason
      }
    }
  }
}
`,
  },
  {
    query: `# Credentials expiring in 30 days
#
# Employee credentials (food handler cards,
# certifications, ...) that expire within the next
# 30 days, with the holder and the holder's store.
query ExpiringCredentials {
  credentials(
    first: 50
    filter: { expiringWithinDays: 30 }
  ) {
    totalCount
    nodes {
      id
      kind
      expiresOn
      status
      employee {
        firstName
        lastName
        location {
          storeNumber
        }
      }
    }
  }
}
`,
  },
  {
    query: `# HRIS batch upsert (idempotent)
#
# Upserts employees by externalId, the way an HRIS
# connector syncs them. Every row gets a result
# (index, status, id); rows that fail
# validation come back in userErrors instead of
# failing the whole batch.
#
# Idempotency: the Headers tab sends an
# Idempotency-Key. Retrying with the SAME key (say,
# after a timeout) returns the stored response of the
# first request and applies nothing twice. Use a new
# key for each new batch. If the Headers tab is empty,
# add {"Idempotency-Key": "sync-2026-11-30-001"}.
mutation SyncEmployees($input: SyncEmployeesInput!) {
  syncEmployees(input: $input) {
    results {
      index
      externalId
      status
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
`,
    variables: json({
      input: {
        employees: [
          {
            externalId: 'WD-1001',
            firstName: 'Ana',
            lastName: 'Ruiz',
            hireDate: '2026-01-15',
            locationStoreNumber: '0001',
            jobTitle: 'Line cook',
          },
          {
            externalId: 'WD-1002',
            firstName: 'Sam',
            lastName: 'Okafor',
            hireDate: '2026-02-01',
            locationStoreNumber: '0002',
            jobTitle: 'Prep cook',
          },
        ],
      },
    }),
    headers: json({ 'Idempotency-Key': 'sync-2026-11-30-001' }),
  },
  {
    query: `# Reading extensions.cost
#
# Every response carries extensions.cost (scroll to
# the end of the result):
#   requestedQueryCost  estimate made before running
#   actualQueryCost     what was actually charged
#   throttleStatus      your remaining budget:
#     maximumAvailable, currentlyAvailable and
#     restoreRate (points per second).
# The rateLimit field reports the same budget from
# inside the query; the top bar shows the last cost.
query CostAndBudget {
  rateLimit {
    cost
    limit
    remaining
    resetAt
  }
  locations(first: 5) {
    nodes {
      name
    }
  }
}
`,
  },
];
