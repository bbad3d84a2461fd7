#pragma once
namespace ch00 { int answer(); }
