#include "operation.h"

#include "chatoperation.h"
#include "embeddingsoperation.h"

const Operation &Operation::of(EngineRequest::Operation operation)
{
    static const ChatOperation chat;
    static const EmbeddingsOperation embeddings;
    if (operation == EngineRequest::Operation::Embeddings)
        return embeddings;
    return chat;
}
