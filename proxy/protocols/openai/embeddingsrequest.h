#pragma once

#include "apierror.h"
#include "enginerequest.h"

#include <QByteArray>

#include <optional>

// A client's POST /v1/embeddings body, checked and taken into the engine's format (the same format: it goes
// upstream as it is, with each entry's model). `input` is a string, an array of strings, an array of tokens
// or an array of token arrays, never empty; `model` picks a chain as for chat; `encoding_format` is float
// (the default) or base64; `dimensions` a positive integer.
struct EmbeddingsRequest
{
    EngineRequest request;
    QString clientModel; // the answer's `model`
    bool base64 = false; // encoding_format: base64, which the answer must honour (EmbeddingsSink)

    static std::optional<ApiError> parse(const QByteArray &json, EmbeddingsRequest *out);
};
