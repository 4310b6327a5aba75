// Gemma 4 chat template renderer: the message loop of the GGUF's Jinja template, statement for
// statement (system block, turn continuation, tool calls and results, content, generation prompt).
#include "loader/chat_template.h"

#include <optional>

#include "loader/chat_template_detail.h"

namespace vkllm {

using namespace chat_detail;

namespace {

// ns.prev_message_type in the template.
enum class Prev { None, Think, Tool, ToolCall, ToolResponse, Media };

std::string message_field(size_t i, const char* key) {
    return "messages[" + std::to_string(i) + "]." + key;
}

bool optional_bool(const json& conv, const char* key, bool fallback) {
    const json* v = member(&conv, key);
    if (v == nullptr || v->is_null()) return fallback;
    if (!v->is_boolean()) fail(key, "expected a bool, got " + std::string(v->type_name()));
    return v->get<bool>();
}

const std::string& role_of(const json& messages, size_t i) {
    return messages[i].at("role").get_ref<const std::string&>();
}

// Checks the shape every later step relies on: each message is an object with a known role.
void validate_messages(const json& messages) {
    static const char* const roles[] = {"system",    "developer", "user",
                                        "assistant", "model",     "tool"};
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        if (!m.is_object()) {
            fail("messages[" + std::to_string(i) + "]",
                 "expected an object, got " + std::string(m.type_name()));
        }
        const json* role = member(&m, "role");
        if (role == nullptr || !role->is_string())
            fail(message_field(i, "role"), "expected a string");
        bool known = false;
        for (const char* r : roles) known = known || *role == r;
        if (!known) {
            fail(message_field(i, "role"),
                 "unknown role \"" + role->get<std::string>() +
                     "\" (expected system, developer, user, assistant, model or tool)");
        }
    }
}

// A message's content: string, or a list of text/image/audio/video parts.
void render_content(const json& m, size_t i, bool model_role, std::string& out, Prev& prev) {
    const json* content = member(&m, "content");
    if (content == nullptr || content->is_null()) return;
    const auto text_of = [&](std::string_view s) {
        return model_role ? strip_thinking(s) : py_trim(s);
    };
    if (content->is_string()) {
        out += text_of(content->get_ref<const std::string&>());
        return;
    }
    if (!content->is_array()) {
        fail(message_field(i, "content"),
             "expected a string or a list of parts, got " + std::string(content->type_name()));
    }
    for (size_t k = 0; k < content->size(); ++k) {
        const json& part = (*content)[k];
        const std::string field = message_field(i, "content") + "[" + std::to_string(k) + "]";
        if (!part.is_object()) fail(field, "expected an object");
        const json* type = member(&part, "type");
        if (type == nullptr || !type->is_string()) continue;
        if (*type == "text") {
            const json* text = member(&part, "text");
            if (text == nullptr || !text->is_string()) fail(field + ".text", "expected a string");
            out += text_of(text->get_ref<const std::string&>());
        } else if (*type == "image" || *type == "audio" || *type == "video") {
            out += "<|" + type->get<std::string>() + "|>";
            prev = Prev::Media;
        }
    }
}

void render_tool_calls(const json& calls, size_t i, std::string& out) {
    if (!calls.is_array()) fail(message_field(i, "tool_calls"), "expected a list");
    for (size_t k = 0; k < calls.size(); ++k) {
        const std::string field = message_field(i, "tool_calls") + "[" + std::to_string(k) + "]";
        const json* fn = member(&calls[k], "function");
        if (fn == nullptr || !fn->is_object()) fail(field + ".function", "expected an object");
        const json* name = member(fn, "name");
        if (name == nullptr || !name->is_string())
            fail(field + ".function.name", "expected a string");
        out += "<|tool_call>call:" + name->get<std::string>() + "{";
        const json* args = member(fn, "arguments");
        if (args != nullptr && args->is_object()) {
            bool first = true;
            for (const auto& [key, value] : dictsort(*args, field + ".function.arguments")) {
                out += (first ? "" : ",") + key + ":" + format_argument(*value, false);
                first = false;
            }
        } else if (args != nullptr && args->is_string()) {
            out += args->get<std::string>();
        }
        out += "}<tool_call|>";
    }
}

// Results of role "tool" messages that follow assistant message `i` (OpenAI style). Returns
// whether any were rendered.
bool render_following_tool_results(const json& messages, size_t i, std::string& out) {
    const json& calls = messages[i].at("tool_calls");
    bool any = false;
    for (size_t k = i + 1; k < messages.size() && role_of(messages, k) == "tool"; ++k) {
        const json& follow = messages[k];
        // The template resolves the name by tool_call_id; a missing id equals a missing id.
        const json* name = member(&follow, "name");
        const json* want_id = member(&follow, "tool_call_id");
        for (const json& tc : calls) {
            const json* id = member(&tc, "id");
            const bool same = (id == nullptr || id->is_null())
                                  ? (want_id == nullptr || want_id->is_null())
                                  : (want_id != nullptr && *id == *want_id);
            if (same) name = member(member(&tc, "function"), "name");
        }
        if (name == nullptr || !name->is_string()) {
            fail(message_field(k, "tool_call_id"),
                 "no matching tool call and no string \"name\": cannot name the tool result");
        }
        const json* body = member(&follow, "content");
        if (body != nullptr && body->is_array()) {
            std::string text;
            for (size_t p = 0; p < body->size(); ++p) {
                const json& part = (*body)[p];
                const std::string field =
                    message_field(k, "content") + "[" + std::to_string(p) + "]";
                if (!part.is_object()) fail(field, "expected an object");
                const json* type = member(&part, "type");
                if (type == nullptr || *type != "text") continue;
                const json* t = member(&part, "text");
                if (t == nullptr || !t->is_string()) fail(field + ".text", "expected a string");
                text += t->get<std::string>();
            }
            out += format_tool_response_block(name->get<std::string>(), json(text));
        } else if (body != nullptr && body->is_object()) {
            fail(message_field(k, "content"), "expected a string or a list of parts, got object");
        } else {
            out += format_tool_response_block(name->get<std::string>(), body ? *body : json());
        }
        any = true;
    }
    return any;
}

// Results embedded in the assistant message itself (Gemma-native "tool_responses").
void render_tool_responses(const json& responses, size_t i, std::string& out) {
    if (!responses.is_array()) fail(message_field(i, "tool_responses"), "expected a list");
    for (size_t k = 0; k < responses.size(); ++k) {
        const std::string field =
            message_field(i, "tool_responses") + "[" + std::to_string(k) + "]";
        const json* name = member(&responses[k], "name");
        if (name != nullptr && !name->is_string()) fail(field + ".name", "expected a string");
        const json* response = member(&responses[k], "response");
        if (response == nullptr) fail(field + ".response", "missing");
        out += format_tool_response_block(name ? name->get<std::string>() : "unknown", *response);
    }
}

}  // namespace

std::string render_gemma4_chat(const json& conversation) {
    if (!conversation.is_object()) fail("conversation", "expected a JSON object");
    const json* messages_ptr = member(&conversation, "messages");
    if (messages_ptr == nullptr || !messages_ptr->is_array()) fail("messages", "expected a list");
    const json& messages = *messages_ptr;
    if (messages.empty()) fail("messages", "must not be empty");
    validate_messages(messages);
    const bool add_generation_prompt = optional_bool(conversation, "add_generation_prompt", true);
    const bool thinking = optional_bool(conversation, "enable_thinking", false);
    const json* tools = member(&conversation, "tools");
    if (tools != nullptr && !tools->is_null() && !tools->is_array()) {
        fail("tools", "expected a list, got " + std::string(tools->type_name()));
    }

    std::string out = "<bos>";
    Prev prev = Prev::None;
    size_t begin = 0;  // loop_messages = messages[begin:]
    const bool system_first =
        role_of(messages, 0) == "system" || role_of(messages, 0) == "developer";
    if (thinking || truthy(tools) || system_first) {
        out += "<|turn>system\n";
        if (thinking) {
            out += "<|think|>\n";
            prev = Prev::Think;
        }
        if (system_first) {
            const json* content = member(&messages[0], "content");
            if (content != nullptr && !content->is_string()) {
                fail(message_field(0, "content"), "a system message's content must be a string");
            }
            if (content != nullptr) out += py_trim(content->get_ref<const std::string&>());
            begin = 1;
        }
        if (truthy(tools)) {
            for (size_t t = 0; t < tools->size(); ++t) {
                const std::string field = "tools[" + std::to_string(t) + "]";
                out += "<|tool>" + format_function_declaration((*tools)[t], field) + "<tool|>";
            }
            prev = Prev::Tool;
        }
        out += "<turn|>\n";
    }

    std::optional<size_t> last_user;
    for (size_t i = begin; i < messages.size(); ++i) {
        if (role_of(messages, i) == "user") last_user = i;
    }

    for (size_t i = begin; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string& raw_role = role_of(messages, i);
        if (raw_role == "tool") continue;  // rendered with the assistant message they answer
        prev = Prev::None;
        const std::string role = raw_role == "assistant" ? "model" : raw_role;
        // Consecutive assistant messages (tool messages between them aside) share one turn.
        std::string prev_role;
        for (size_t j = i; j-- > begin;) {
            if (role_of(messages, j) != "tool") {
                prev_role = role_of(messages, j);
                break;
            }
        }
        if (!(role == "model" && prev_role == "assistant")) out += "<|turn>" + role + "\n";

        const json* tool_calls = member(&m, "tool_calls");
        const json* reasoning = member(&m, "reasoning");
        if (!truthy(reasoning)) reasoning = member(&m, "reasoning_content");
        if (truthy(reasoning) && (!last_user || i > *last_user) && truthy(tool_calls)) {
            if (!reasoning->is_string()) fail(message_field(i, "reasoning"), "expected a string");
            out += "<|channel>thought\n" + reasoning->get<std::string>() + "\n<channel|>";
        }
        if (truthy(tool_calls)) {
            render_tool_calls(*tool_calls, i, out);
            prev = Prev::ToolCall;
        }
        bool rendered_results = false;
        if (const json* responses = member(&m, "tool_responses"); truthy(responses)) {
            render_tool_responses(*responses, i, out);
            rendered_results = !responses->empty();
            prev = Prev::ToolResponse;
        } else if (truthy(tool_calls)) {
            rendered_results = render_following_tool_results(messages, i, out);
            if (rendered_results) prev = Prev::ToolResponse;
        }
        render_content(m, i, role == "model", out, prev);

        if (prev == Prev::ToolCall && !rendered_results) {
            out += "<|tool_response>";  // hand the turn over for the tool's result
        } else if (!(rendered_results && !truthy(member(&m, "content")))) {
            out += "<turn|>\n";
        }
    }

    if (add_generation_prompt && prev != Prev::ToolResponse && prev != Prev::ToolCall) {
        out += "<|turn>model\n";
        if (!thinking) out += "<|channel>thought\n<channel|>";
    }
    return out;
}

}  // namespace vkllm
