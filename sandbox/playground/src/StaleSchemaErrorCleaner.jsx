import { useEffect, useRef } from 'react';
import { useEditorContext, useSchemaContext } from '@graphiql/react';

/**
 * GraphiQL writes a failed schema fetch into the result pane and leaves it
 * there after a later fetch succeeds (say, once the sandbox exists). This
 * clears the result pane when it still shows that stale error.
 */
export function StaleSchemaErrorCleaner() {
  const { fetchError } = useSchemaContext({ nonNull: true });
  const { responseEditor } = useEditorContext({ nonNull: true });
  const lastError = useRef(null);
  useEffect(() => {
    if (fetchError) {
      lastError.current = fetchError;
      return;
    }
    if (lastError.current && responseEditor && responseEditor.getValue() === lastError.current) {
      responseEditor.setValue('');
    }
    lastError.current = null;
  }, [fetchError, responseEditor]);
  return null;
}
